//! Real photos to upload in tests: small images that decode, in each accepted type.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, RgbImage};

fn encoded(w: u32, h: u32, format: ImageFormat) -> Vec<u8> {
    // A two-colour picture, so a rotation can be seen in the result.
    let img =
        RgbImage::from_fn(w, h, |x, _| if x < w / 2 { image::Rgb([200, 40, 40]) } else { image::Rgb([40, 40, 200]) });
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(img).write_to(&mut out, format).expect("encoding a test image");
    out.into_inner()
}

/// A JPEG of `w`×`h` pixels.
pub fn jpeg(w: u32, h: u32) -> Vec<u8> {
    encoded(w, h, ImageFormat::Jpeg)
}

/// A PNG of `w`×`h` pixels.
pub fn png(w: u32, h: u32) -> Vec<u8> {
    encoded(w, h, ImageFormat::Png)
}
