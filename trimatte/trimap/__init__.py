"""trimap."""
