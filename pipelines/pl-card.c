/* SPDX-License-Identifier: MIT */
/* The card shown while nobody shares: title, elapsed time, participants, who speaks.
 * Drawn with cairo/pango only when something visible changed (about once a second), so a
 * call without a share costs almost nothing to encode. */
#include "pl-private.h"

#include <cairo.h>
#include <gst/video/video.h>
#include <pango/pangocairo.h>

/* The card background; tests/media-check recognises a card by it. */
#define CARD_R 32
#define CARD_G 36
#define CARD_B 48

struct _PlCard {
  int width;
  int height;
  char *title;
  /* Only while drawing: a 1080p ARGB surface is 8 MB, and the card is drawn about once a
   * second, and not at all while a share shows; freed, it is not there when the share's
   * decoder and the encoder claim their memory (the recorder's peak RSS). */
  cairo_surface_t *surface;
  GstVideoConverter *converter; /* BGRA (cairo ARGB32 on little endian) → I420 */
  GstVideoInfo in_info;
  GstVideoInfo out_info;
  char *last_signature; /* what was drawn last: skip identical redraws */
};

PlCard *
pl_card_new (int width, int height, const char *title)
{
  PlCard *card = g_new0 (PlCard, 1);
  card->width = width;
  card->height = height;
  card->title = g_strdup (title ? title : "");
  gst_video_info_set_format (&card->in_info, G_BYTE_ORDER == G_LITTLE_ENDIAN
                                                 ? GST_VIDEO_FORMAT_BGRA
                                                 : GST_VIDEO_FORMAT_ARGB,
                             width, height);
  card->in_info.stride[0] = cairo_format_stride_for_width (CAIRO_FORMAT_ARGB32, width);
  card->in_info.size = (gsize) card->in_info.stride[0] * height;
  gst_video_info_set_format (&card->out_info, GST_VIDEO_FORMAT_I420, width, height);
  card->converter = gst_video_converter_new (&card->in_info, &card->out_info, NULL);
  return card;
}

void
pl_card_free (PlCard *card)
{
  if (!card)
    return;
  gst_video_converter_free (card->converter);
  g_free (card->title);
  g_free (card->last_signature);
  g_free (card);
}

static void
draw_text (cairo_t *cr, const char *text, const char *font, double x, double y, double r,
           double g, double b)
{
  PangoLayout *layout = pango_cairo_create_layout (cr);
  PangoFontDescription *desc = pango_font_description_from_string (font);
  pango_layout_set_font_description (layout, desc);
  pango_layout_set_text (layout, text, -1);
  cairo_set_source_rgb (cr, r, g, b);
  cairo_move_to (cr, x, y);
  pango_cairo_show_layout (cr, layout);
  pango_font_description_free (desc);
  g_object_unref (layout);
}

static void
draw (PlCard *card, const char *clock, const PlCardPerson *people, guint n_people)
{
  cairo_t *cr = cairo_create (card->surface);
  double unit = card->height / 1080.0; /* layout is designed at 1080 lines */
  g_autofree char *title_font = g_strdup_printf ("DejaVu Sans Bold %d", (int) (56 * unit));
  g_autofree char *body_font = g_strdup_printf ("DejaVu Sans %d", (int) (34 * unit));
  double x = 120 * unit;

  cairo_set_source_rgb (cr, CARD_R / 255.0, CARD_G / 255.0, CARD_B / 255.0);
  cairo_paint (cr);
  draw_text (cr, card->title, title_font, x, 110 * unit, 1, 1, 1);
  draw_text (cr, clock, body_font, x, 210 * unit, 0.75, 0.78, 0.85);

  /* A column of names; a green dot marks who is speaking, a grey ring who is not. */
  double row = 62 * unit;
  guint max_rows = (guint) MAX (1, (card->height - 340 * unit) / row);
  for (guint i = 0; i < n_people && i < max_rows; i++) {
    double y = 320 * unit + i * row;
    double cx = x + 14 * unit, cy = y + 24 * unit;
    cairo_arc (cr, cx, cy, 12 * unit, 0, 2 * G_PI);
    if (people[i].speaking) {
      cairo_set_source_rgb (cr, 0.2, 0.85, 0.35);
      cairo_fill (cr);
    } else {
      cairo_set_source_rgb (cr, 0.45, 0.47, 0.52);
      cairo_set_line_width (cr, 3 * unit);
      cairo_stroke (cr);
    }
    draw_text (cr, people[i].name, body_font, x + 44 * unit, y, 1, 1, 1);
  }
  if (n_people > max_rows) {
    g_autofree char *more = g_strdup_printf ("and %u more", n_people - max_rows);
    draw_text (cr, more, body_font, x + 44 * unit, 320 * unit + max_rows * row, 0.75, 0.78,
               0.85);
  }
  cairo_destroy (cr);
  cairo_surface_flush (card->surface);
}

GstBuffer *
pl_card_render (PlCard *card, guint elapsed_s, const PlCardPerson *people, guint n_people,
                gboolean force)
{
  g_autofree char *clock = g_strdup_printf ("Recording %02u:%02u:%02u", elapsed_s / 3600,
                                            elapsed_s / 60 % 60, elapsed_s % 60);
  GString *sig = g_string_new (clock);
  for (guint i = 0; i < n_people; i++)
    g_string_append_printf (sig, "\n%c%s", people[i].speaking ? '*' : ' ', people[i].name);
  if (!force && card->last_signature && g_str_equal (sig->str, card->last_signature)) {
    g_string_free (sig, TRUE);
    return NULL;
  }
  g_free (card->last_signature);
  card->last_signature = g_string_free (sig, FALSE);

  card->surface = cairo_image_surface_create_for_data (
      g_malloc (card->in_info.size), CAIRO_FORMAT_ARGB32, card->width, card->height,
      card->in_info.stride[0]);
  draw (card, clock, people, n_people);

  GstBuffer *buffer = gst_buffer_new_allocate (NULL, card->out_info.size, NULL);
  GstVideoFrame in_frame, out_frame;
  GstBuffer *in_buffer = gst_buffer_new_wrapped_full (
      GST_MEMORY_FLAG_READONLY, cairo_image_surface_get_data (card->surface),
      card->in_info.size, 0, card->in_info.size, NULL, NULL);
  gst_video_frame_map (&in_frame, &card->in_info, in_buffer, GST_MAP_READ);
  gst_video_frame_map (&out_frame, &card->out_info, buffer, GST_MAP_WRITE);
  gst_video_converter_frame (card->converter, &in_frame, &out_frame);
  gst_video_frame_unmap (&out_frame);
  gst_video_frame_unmap (&in_frame);
  gst_buffer_unref (in_buffer);
  guint8 *pixels = cairo_image_surface_get_data (card->surface);
  g_clear_pointer (&card->surface, cairo_surface_destroy);
  g_free (pixels);
  return buffer;
}
