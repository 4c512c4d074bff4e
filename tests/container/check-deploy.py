#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Checks that container/ describes one consistent deployment: the Containerfiles, the
compose file and the Kubernetes manifests agree with each other and with the server's
documented defaults (config/callrec-server.conf) on ports, entrypoints, users, volumes
and configuration, and that the ConfigMap's configuration file is one the real server
accepts. Prints '# ' diagnostics; exits 1 listing every mismatch found.

  check-deploy.py SOURCE_DIR [BUILD_DIR]
"""
import configparser
import json
import os
import re
import select
import shlex
import subprocess
import sys
import tempfile
from urllib.parse import urlsplit

import yaml

problems = []


def check(cond, what):
    if not cond:
        problems.append(what)
    return cond


def parse_containerfile(path):
    """Instructions per stage, with continuation lines joined and comments dropped."""
    lines, cur = [], ''
    for raw in open(path, encoding='utf-8'):
        s = raw.rstrip('\n')
        if not cur and (not s.strip() or s.lstrip().startswith('#')):
            continue
        if s.endswith('\\'):
            cur += s[:-1] + ' '
            continue
        lines.append(cur + s)
        cur = ''
    args, stages = {}, []
    for line in lines:
        op, _, rest = line.strip().partition(' ')
        op, rest = op.upper(), rest.strip()
        if op == 'ARG' and not stages:
            name, _, default = rest.partition('=')
            args[name] = default
        elif op == 'FROM':
            words = rest.split()
            stages.append({'from': words[0],
                           'name': words[2] if len(words) > 2 else None, 'ins': []})
        else:
            stages[-1]['ins'].append((op, rest))
    return args, stages


def last(stage, op):
    found = [rest for o, rest in stage['ins'] if o == op]
    return found[-1] if found else None


def conf_keys_and_values(text):
    """Every group.key the documented file names (set or commented out) and the set ones."""
    known, values, group = set(), {}, None
    for line in text.splitlines():
        m = re.match(r'^\s*\[([a-z_]+)\]', line)
        if m:
            group = m.group(1)
            continue
        m = re.match(r'^\s*(#\s*)?([a-z_]+)\s*=\s*(.*)$', line)
        if m and group:
            known.add(f'{group}.{m.group(2)}')
            if not m.group(1):
                values[f'{group}.{m.group(2)}'] = m.group(3).strip()
    return known, values


def port_of(hostport):
    return int(hostport.rsplit(':', 1)[1])


def load_all(path):
    return [d for d in yaml.safe_load_all(open(path, encoding='utf-8')) if d]


def main():
    src = sys.argv[1]
    build = sys.argv[2] if len(sys.argv) > 2 else None
    cdir = os.path.join(src, 'container')

    # The server's documented defaults are the reference for every port below.
    known_keys, defaults = conf_keys_and_values(
        open(os.path.join(src, 'config/callrec-server.conf'), encoding='utf-8').read())
    http_port = port_of(defaults['server.listen'])
    rtc_port = int(defaults['rtc.port'])
    print(f'# server defaults: HTTP {http_port}/tcp, RTC {rtc_port}/udp+tcp')

    rec_args, rec = parse_containerfile(os.path.join(cdir, 'recorder-node.Containerfile'))
    srv_args, srv = parse_containerfile(os.path.join(cdir, 'server.Containerfile'))
    for name, args, stages in (('recorder-node', rec_args, rec), ('server', srv_args, srv)):
        check(args.get('BASE_IMAGE') == 'localhost/debian:bookworm',
              f'{name}.Containerfile: ARG BASE_IMAGE must default to localhost/debian:bookworm')
        check(all(s['from'] in ('${BASE_IMAGE}', '$BASE_IMAGE') for s in stages),
              f'{name}.Containerfile: every stage must start FROM the BASE_IMAGE argument')
        check(len(stages) >= 2 and stages[0]['name'] == 'build',
              f'{name}.Containerfile: expected a build stage and a runtime stage')
        user = last(stages[-1], 'USER') or ''
        check(re.fullmatch(r'[1-9][0-9]*:[1-9][0-9]*', user) is not None,
              f'{name}.Containerfile: runtime USER must be a numeric non-root uid:gid, '
              f'not {user!r}')
        build_copies = [r for o, r in stages[-1]['ins'] if o == 'RUN' and
                        re.search(r'\b(gcc|meson|-dev)\b', r)]
        check(not build_copies, f'{name}.Containerfile: build tools in the runtime stage')
    # Same build stage, instruction for instruction: both images share its layer cache.
    check(rec[0]['ins'] == srv[0]['ins'],
          'the build stages of recorder-node.Containerfile and server.Containerfile differ '
          '(both images would compile separately)')
    uid = int((last(rec[-1], 'USER') or '0:0').split(':')[0])

    rec_entry = json.loads(last(rec[-1], 'ENTRYPOINT') or '[]')
    check(rec_entry[-1:] == ['/usr/local/bin/callrec-recorder-entrypoint'],
          f'recorder-node entrypoint is {rec_entry}')
    check(any(o == 'COPY' and r.split()[-1] == '/usr/local/bin/callrec-recorder-entrypoint'
              and 'container/recorder-entrypoint.sh' in r for o, r in rec[-1]['ins']),
          'recorder-node.Containerfile does not install container/recorder-entrypoint.sh')
    script = open(os.path.join(cdir, 'recorder-entrypoint.sh'), encoding='utf-8').read()
    check(re.search(r'exec callrec-recorder worker --server "\$CALLREC_SERVER"\s*\\?\s*'
                    r'--max-jobs', script) is not None,
          'recorder-entrypoint.sh does not exec callrec-recorder worker with the env config')
    # The worker reads its token from the environment: a command line is visible to all.
    check(re.search(r'exec callrec-recorder[^\n]*--token', script) is None,
          'recorder-entrypoint.sh passes the token on the command line')
    worker_env = set(re.findall(r'\$\{?(CALLREC_[A-Z_]+)', script))
    check(worker_env == {'CALLREC_SERVER', 'CALLREC_TOKEN', 'CALLREC_MAX_JOBS'},
          f'recorder-entrypoint.sh reads {sorted(worker_env)}')
    check('CALLREC_TOKEN' not in (last(rec[-1], 'ENV') or ''),
          'the worker token must not be baked into the image')

    srv_entry = json.loads(last(srv[-1], 'ENTRYPOINT') or '[]')
    srv_cmd = json.loads(last(srv[-1], 'CMD') or '[]')
    check(srv_entry[-1:] == ['/usr/local/bin/callrec-server'], f'server entrypoint {srv_entry}')
    check(srv_cmd[:1] == ['--config'] and len(srv_cmd) == 2, f'server CMD {srv_cmd}')
    conf_path = srv_cmd[1] if len(srv_cmd) == 2 else ''
    exposed = set()
    for o, r in srv[-1]['ins']:
        if o == 'EXPOSE':
            exposed |= {(int(p.split('/')[0]), (p.split('/') + ['tcp'])[1].upper())
                        for p in r.split()}
    want_ports = {(http_port, 'TCP'), (rtc_port, 'UDP'), (rtc_port, 'TCP')}
    check(exposed == want_ports, f'server.Containerfile EXPOSE {sorted(exposed)}, '
          f'want {sorted(want_ports)}')
    volume = (last(srv[-1], 'VOLUME') or '').strip('[]" ')
    check(volume == '/var/lib/callrec', f'server VOLUME {volume!r}')

    # Kubernetes.
    kdir = os.path.join(cdir, 'k8s')
    kust = load_all(os.path.join(kdir, 'kustomization.yaml'))[0]
    files = sorted(f for f in os.listdir(kdir) if f.endswith('.yaml'))
    listed = set(kust.get('resources', []))
    check(listed == set(files) - {'kustomization.yaml', 'worker-token-secret.example.yaml'},
          f'kustomization.yaml lists {sorted(listed)} of {files}')
    objs = {}
    for f in files:
        if f == 'kustomization.yaml':
            continue
        for d in load_all(os.path.join(kdir, f)):
            check('apiVersion' in d and 'metadata' in d, f'{f}: object without apiVersion')
            objs[(d['kind'], d['metadata']['name'])] = d
    print(f'# k8s objects: {", ".join(f"{k}/{n}" for k, n in sorted(objs))}')

    def deployment_container(name):
        d = objs.get(('Deployment', name))
        if not check(d is not None, f'no Deployment {name}'):
            return None, None
        spec = d['spec']['template']['spec']
        sel = d['spec']['selector']['matchLabels']
        check(all(d['spec']['template']['metadata']['labels'].get(k) == v
                  for k, v in sel.items()), f'Deployment {name}: selector does not match')
        sc = spec.get('securityContext', {})
        check(sc.get('runAsNonRoot') is True and sc.get('runAsUser') == uid,
              f'Deployment {name}: runAsNonRoot/runAsUser must match the image user {uid}')
        c = spec['containers'][0]
        check('command' not in c and 'args' not in c,
              f'Deployment {name}: overrides the image entrypoint/cmd')
        return spec, c

    sspec, sc = deployment_container('callrec-server')
    if sc:
        check(sc['image'].split(':')[0] == 'callrec-server', f'server image {sc["image"]}')
        cports = {p['name']: (p['containerPort'], p.get('protocol', 'TCP'))
                  for p in sc['ports']}
        check(set(cports.values()) == want_ports, f'server containerPorts {cports}')
        for probe in ('readinessProbe', 'livenessProbe'):
            port = sc.get(probe, {}).get('httpGet', {}).get('port')
            check(cports.get(port, (None,))[0] == http_port, f'server {probe} port {port}')
        mounts = {m['name']: m['mountPath'] for m in sc.get('volumeMounts', [])}
        vols = {v['name']: v for v in sspec.get('volumes', [])}
        data = [n for n, p in mounts.items() if p == volume]
        check(len(data) == 1 and 'persistentVolumeClaim' in vols.get(data[0], {}),
              f'server: no PersistentVolumeClaim mounted at {volume}')
        if data and 'persistentVolumeClaim' in vols.get(data[0], {}):
            claim = vols[data[0]]['persistentVolumeClaim']['claimName']
            check(('PersistentVolumeClaim', claim) in objs, f'no PVC {claim}')
        cfg = [n for n, p in mounts.items() if p == os.path.dirname(conf_path)]
        check(len(cfg) == 1 and 'configMap' in vols.get(cfg[0], {}),
              f'server: no ConfigMap mounted at {os.path.dirname(conf_path)}')
        if cfg and 'configMap' in vols.get(cfg[0], {}):
            cm = objs.get(('ConfigMap', vols[cfg[0]]['configMap']['name']))
            text = (cm or {}).get('data', {}).get(os.path.basename(conf_path))
            if check(text is not None, f'ConfigMap has no {os.path.basename(conf_path)}'):
                check_server_conf(text, known_keys, http_port, rtc_port, volume, build)
        pod_labels = objs[('Deployment', 'callrec-server')]['spec']['template']['metadata'][
            'labels']
        services = [o for (k, _), o in objs.items() if k == 'Service' and
                    o['spec'].get('selector', {}).items() <= pod_labels.items()]
        svc_ports = set()
        for s in services:
            for p in s['spec']['ports']:
                target = p.get('targetPort')
                check(target in cports, f'Service {s["metadata"]["name"]}: targetPort '
                      f'{target} is no container port')
                if target in cports:
                    check(cports[target][1] == p.get('protocol', 'TCP') and
                          p['port'] == cports[target][0],
                          f'Service {s["metadata"]["name"]}: port {p} does not match '
                          f'container port {cports[target]}')
                svc_ports.add((p['port'], p.get('protocol', 'TCP'), s['spec'].get('type')))
        check({(rtc_port, 'UDP'), (rtc_port, 'TCP')} <= {(p, pr) for p, pr, t in svc_ports
                                                          if t in ('LoadBalancer', 'NodePort')},
              'no externally reachable Service publishes the RTC port on UDP and TCP')
        server_svc = objs.get(('Service', 'callrec-server'))
        check(server_svc is not None and any(p['port'] == http_port
                                             for p in server_svc['spec']['ports']),
              f'Service callrec-server must offer HTTP on {http_port}')

    rspec, rc = deployment_container('callrec-recorder-node')
    if rc:
        check(rc['image'].split(':')[0] == 'callrec-recorder-node', f'recorder image {rc["image"]}')
        env = {e['name']: e for e in rc.get('env', [])}
        check(set(env) == worker_env, f'recorder Deployment env {sorted(env)}')
        tok = env.get('CALLREC_TOKEN', {}).get('valueFrom', {}).get('secretKeyRef')
        check(tok is not None and 'value' not in env.get('CALLREC_TOKEN', {}),
              'the recorder token must come from a Secret')
        url = urlsplit(env.get('CALLREC_SERVER', {}).get('value', ''))
        check(url.scheme == 'http' and url.hostname == 'callrec-server' and
              url.port == http_port, f'recorder CALLREC_SERVER {url.geturl()}')
        if tok:
            ex = load_all(os.path.join(kdir, 'worker-token-secret.example.yaml'))[0]
            check(ex['kind'] == 'Secret' and ex['metadata']['name'] == tok['name'] and
                  tok['key'] in ex.get('stringData', {}),
                  f'the example Secret does not provide {tok}')
    check({i['name'] for i in kust.get('images', [])} ==
          {'callrec-server', 'callrec-recorder-node'}, 'kustomization images')

    # Compose.
    comp = yaml.safe_load(open(os.path.join(cdir, 'compose.yaml'), encoding='utf-8'))
    svcs = comp['services']
    recs = [n for n, s in svcs.items()
            if s['build']['dockerfile'] == 'container/recorder-node.Containerfile']
    servers = [n for n, s in svcs.items()
               if s['build']['dockerfile'] == 'container/server.Containerfile']
    check(len(servers) == 1 and len(recs) == 2, f'compose: servers {servers}, recorders {recs}')
    for n, s in svcs.items():
        check(os.path.exists(os.path.join(cdir, s['build']['context'],
                                          s['build']['dockerfile'])),
              f'compose {n}: no {s["build"]["dockerfile"]} in its context')
        check('BASE_IMAGE' in s['build'].get('args', {}), f'compose {n}: no BASE_IMAGE arg')
    if servers:
        s = svcs[servers[0]]
        published = set()
        for p in s.get('ports', []):
            spec, _, proto = str(p).partition('/')
            published.add((int(spec.rsplit(':', 1)[1]), (proto or 'tcp').upper()))
        check(published == want_ports, f'compose server ports {sorted(published)}')
        check(any(str(v).split(':')[1] == volume for v in s.get('volumes', [])),
              f'compose server: no volume at {volume}')
        env = s.get('environment', {})
        check(port_of(env.get('CALLREC_LISTEN', f'x:{http_port}')) == http_port and
              int(env.get('CALLREC_RTC_PORT', rtc_port)) == rtc_port,
              'compose server environment changes the ports')
    for n in recs:
        env = svcs[n].get('environment', {})
        check(set(env) == worker_env, f'compose {n}: env {sorted(env)}')
        url = urlsplit(env.get('CALLREC_SERVER', ''))
        check(url.hostname in servers and url.port == http_port,
              f'compose {n}: CALLREC_SERVER {url.geturl()}')
        check(str(env.get('CALLREC_TOKEN', '')).startswith('${'),
              f'compose {n}: the token must come from the environment, not the file')

    if problems:
        for p in problems:
            print(f'# MISMATCH: {p}')
        return 1
    print('# container/: Containerfiles, compose.yaml and k8s/ agree')
    return 0


def check_server_conf(text, known_keys, http_port, rtc_port, volume, build):
    """The ConfigMap's file: documented keys only, the reference ports and data directory,
    and accepted by the real server when a build directory is at hand."""
    cp = configparser.ConfigParser(interpolation=None, comment_prefixes=('#',))
    cp.read_string(text)
    keys = {f'{g}.{k}' for g in cp.sections() for k in cp[g]}
    check(keys <= known_keys, f'ConfigMap keys unknown to the server: {sorted(keys - known_keys)}')
    check(port_of(cp.get('server', 'listen', fallback=f':{http_port}')) == http_port,
          'ConfigMap listen port differs from the server default')
    check(int(cp.get('rtc', 'port', fallback=rtc_port)) == rtc_port,
          'ConfigMap RTC port differs from the server default')
    check(cp.get('server', 'data_dir', fallback='') == volume,
          f'ConfigMap data_dir is not the volume {volume}')
    exe = os.path.join(build or '', 'server', 'callrec-server')
    if not build or not os.access(exe, os.X_OK):
        print('# (no built callrec-server: the ConfigMap file was not loaded for real)')
        return
    with tempfile.TemporaryDirectory() as tmp:
        conf = os.path.join(tmp, 'callrec-server.conf')
        with open(conf, 'w', encoding='utf-8') as f:
            f.write(text)
        env = dict(os.environ, CALLREC_RTC_PORT='0')
        # The data directory and address are the container's: override them with the
        # command line, which the server ranks above the file, to stay on loopback.
        p = subprocess.Popen([exe, '--config', conf, '--data', os.path.join(tmp, 'data'),
                              '--listen', '127.0.0.1:0'], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            ready, _, _ = select.select([p.stdout], [], [], 20)
            line = p.stdout.readline() if ready else '(no output within 20 s)'
        finally:
            p.terminate()
            _, err = p.communicate(timeout=10)
        if check(line.startswith('listening on http://127.0.0.1:'),
                 f'the real server refused the ConfigMap file: {line!r} {err.strip()[-400:]}'):
            print(f'# ConfigMap file loaded by {shlex.quote(exe)}: {line.strip()}')


if __name__ == '__main__':
    sys.exit(main())
