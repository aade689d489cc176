import numpy as np

from trimatte.visualize import contact_sheet, trimap_overlay


def test_trimap_overlay_tints_each_class(disc_scene):
    image, alpha, _, _ = disc_scene
    trimap = np.full(alpha.shape, 128, np.uint8)
    trimap[alpha > 0.99] = 255
    trimap[alpha < 0.01] = 0
    overlay = trimap_overlay(image, trimap, opacity=1.0)
    np.testing.assert_allclose(overlay[trimap == 0][0], (0.1, 0.2, 0.9), atol=1e-6)
    np.testing.assert_allclose(overlay[trimap == 255][0], (0.1, 0.85, 0.2), atol=1e-6)


def test_contact_sheet_has_one_row_per_image_and_four_panels(disc_scene):
    image, alpha, _, _ = disc_scene
    trimap = np.where(alpha > 0.5, 255, 0).astype(np.uint8)
    rows = [{"image": image, "trimap": trimap, "alpha": alpha}, {"image": image}]
    sheet = contact_sheet(rows, row_height=50, gap=2, labels=["a", "b"])
    assert sheet.dtype == np.uint8
    assert sheet.shape[0] == 2 * (50 + 2)
    assert sheet.shape[1] == 4 * 50 + 3 * 2  # square 64x64 input scaled to 50 px panels
    # second row has only the image panel: the rest is white padding
    assert (sheet[52:102, 60:] == 255).all()


def test_long_labels_wrap_inside_a_narrow_panel(disc_scene):
    image = disc_scene[0][:, 8:56]  # a 64x48 portrait: 180 px wide at a 240-px row
    caption = "portrait_02307.jpg: low confidence 0.39 (uncertain subject, mostly unknown)"
    short = contact_sheet([{"image": image}], row_height=240, gap=0, labels=["x"])
    long = contact_sheet([{"image": image}], row_height=240, gap=0, labels=[caption])
    black = (long == 0).all(axis=2)
    assert not black[:, 180:].any()  # the caption stays inside its panel
    box_rows = black[:, 1].sum()
    assert box_rows > 2 * (short == 0).all(axis=2)[:, 1].sum()  # on several lines
