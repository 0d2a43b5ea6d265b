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

/// A decompression bomb: a PNG of `side` × `side` black pixels (1 bit each), which
/// compresses to a few hundred kilobytes and decodes to `side²` bytes or more.
pub fn png_of_zeros(side: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::One);
    encoder.set_compression(png::Compression::High);
    let mut writer = encoder.write_header().expect("PNG header");
    let row = usize::try_from(side.div_ceil(8)).expect("a row fits in memory");
    let zeros = vec![0u8; row * usize::try_from(side).expect("rows fit in memory")];
    writer.write_image_data(&zeros).expect("PNG data");
    writer.finish().expect("PNG end");
    out
}
