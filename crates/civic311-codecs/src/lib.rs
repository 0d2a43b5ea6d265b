//! The CPU- and dependency-heavy parts of the application, behind its traits: password
//! hashing with argon2id ([`Argon2Passwords`]) and photo decoding with the image crate
//! ([`ImagePhotos`]). Only the binary and the tests link this crate, so the crates that
//! route requests (web, jobs) build without either library.

use std::io::Cursor;
use std::sync::Arc;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier};
use civic311_app::Codecs;
use civic311_app::passwords::PasswordHasher;
use civic311_app::photo::{Cleaned, MAX_ALLOC, MAX_DECLARED, MAX_PIXELS, MAX_SIDE, PhotoDecoder, QUALITY, Refusal};
use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

/// Both, as the application takes them.
pub fn codecs() -> Codecs {
    Codecs { passwords: Arc::new(Argon2Passwords), photos: Arc::new(ImagePhotos) }
}

/// argon2id with its default parameters (19 MB, 2 passes).
pub struct Argon2Passwords;

/// A PHC hash of a real password, checked against when a username is unknown.
const DECOY: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2l2aWMzMTFkZWNveXNhbHQ$mX7Ytc4r9f8GiM4tqQ0Ou3V0DbyI0aQ2mXyq1c2B3yE";

impl PasswordHasher for Argon2Passwords {
    fn hash(&self, password: &str) -> Result<String, String> {
        Argon2::default().hash_password(password.as_bytes()).map(|h| h.to_string()).map_err(|e| e.to_string())
    }

    fn verify(&self, password: &str, stored: &str) -> bool {
        PasswordHash::new(stored)
            .map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
            .unwrap_or(false)
    }

    fn decoy(&self) -> &str {
        DECOY
    }
}

/// Photos decoded, oriented, shrunk and re-encoded with the image crate.
pub struct ImagePhotos;

impl PhotoDecoder for ImagePhotos {
    fn clean(&self, content_type: &str, bytes: &[u8]) -> Result<Cleaned, Refusal> {
        clean(content_type, bytes)
    }
}

/// Decodes, rotates, shrinks and re-encodes a photo of `content_type`. Photos without
/// transparency become JPEG, others PNG. The size the photo declares is checked
/// against [`MAX_PIXELS`] before anything is decoded. The error is a sentence for the
/// sender.
fn clean(content_type: &str, bytes: &[u8]) -> Result<Cleaned, Refusal> {
    let invalid = || Refusal::NotAnImage(format!("the file is not a valid {content_type} image"));
    let format = ImageFormat::from_mime_type(content_type).ok_or_else(invalid)?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_DECLARED);
    limits.max_image_height = Some(MAX_DECLARED);
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    let too_large = |w: u32, h: u32| {
        Refusal::TooLarge(format!(
            "the image is {w} × {h} pixels; a photo may have at most {} megapixels",
            MAX_PIXELS / 1_000_000
        ))
    };
    let mut decoder = reader.into_decoder().map_err(|e| match e {
        image::ImageError::Limits(_) => too_large(0, 0),
        _ => invalid(),
    })?;
    let (w, h) = decoder.dimensions();
    if u64::from(w) * u64::from(h) > MAX_PIXELS || w > MAX_DECLARED || h > MAX_DECLARED {
        return Err(too_large(w, h));
    }
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| match e {
        image::ImageError::Limits(_) => too_large(w, h),
        _ => invalid(),
    })?;
    img.apply_orientation(orientation);
    if img.width() > MAX_SIDE || img.height() > MAX_SIDE {
        img = img.resize(MAX_SIDE, MAX_SIDE, FilterType::Triangle);
    }
    let mut out = Cursor::new(Vec::new());
    let written = if img.color().has_alpha() {
        DynamicImage::ImageRgba8(img.to_rgba8()).write_to(&mut out, ImageFormat::Png).map(|()| "image/png")
    } else {
        let rgb = DynamicImage::ImageRgb8(img.to_rgb8());
        let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, QUALITY);
        rgb.write_with_encoder(encoder).map(|()| "image/jpeg")
    };
    let content_type = written.map_err(|e| Refusal::Failed(format!("the photo could not be stored: {e}")))?;
    Ok(Cleaned { content_type, bytes: out.into_inner() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GenericImageView, ImageEncoder, RgbImage};

    /// A JPEG of `w`×`h` with an EXIF block carrying `orientation` and a GPS tag.
    fn jpeg_with_exif(w: u32, h: u32, orientation: u16) -> Vec<u8> {
        let mut plain = Vec::new();
        let img =
            RgbImage::from_fn(w, h, |x, _| if x < w / 2 { image::Rgb([255, 0, 0]) } else { image::Rgb([0, 0, 255]) });
        image::codecs::jpeg::JpegEncoder::new(&mut plain)
            .write_image(img.as_raw(), w, h, image::ExtendedColorType::Rgb8)
            .expect("encode");
        // Little-endian TIFF with two IFD0 entries: Orientation (0x0112) and a GPS IFD
        // pointer (0x8825) — the GPS block itself is a marker string after the IFD.
        let mut tiff = b"II*\0\x08\0\0\0".to_vec();
        tiff.extend_from_slice(&2u16.to_le_bytes());
        tiff.extend_from_slice(&[0x12, 0x01, 3, 0, 1, 0, 0, 0]);
        tiff.extend_from_slice(&orientation.to_le_bytes());
        tiff.extend_from_slice(&[0, 0]);
        tiff.extend_from_slice(&[0x25, 0x88, 4, 0, 1, 0, 0, 0, 38, 0, 0, 0]);
        tiff.extend_from_slice(&[0, 0, 0, 0]);
        tiff.extend_from_slice(b"GPS 40.7128N 74.0060W");
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend_from_slice(&tiff);
        let len = u16::try_from(app1.len() + 2).expect("small");
        let mut out = plain[..2].to_vec();
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&app1);
        out.extend_from_slice(&plain[2..]);
        out
    }

    #[test]
    fn metadata_is_dropped_and_the_photo_stands_upright() {
        let sent = jpeg_with_exif(40, 20, 6);
        assert!(sent.windows(4).any(|w| w == b"Exif") && sent.windows(3).any(|w| w == b"GPS"));
        let kept = clean("image/jpeg", &sent).expect("clean");
        assert_eq!(kept.content_type, "image/jpeg");
        assert!(!kept.bytes.windows(4).any(|w| w == b"Exif"), "EXIF survived");
        assert!(!kept.bytes.windows(3).any(|w| w == b"GPS"), "GPS survived");
        let img = image::load_from_memory(&kept.bytes).expect("decodes");
        // Orientation 6 is "rotate 90° clockwise": 40×20 becomes 20×40, red on top.
        assert_eq!(img.dimensions(), (20, 40));
        let top = img.get_pixel(10, 2);
        assert!(top[0] > 200 && top[2] < 60, "top should be red, got {top:?}");
    }

    #[test]
    fn large_photos_are_shrunk_and_transparent_ones_stay_png() {
        let big = RgbImage::new(3000, 1000);
        let mut png = Cursor::new(Vec::new());
        DynamicImage::ImageRgb8(big).write_to(&mut png, ImageFormat::Png).expect("encode");
        let kept = clean("image/png", png.get_ref()).expect("clean");
        assert_eq!(kept.content_type, "image/jpeg");
        assert_eq!(image::load_from_memory(&kept.bytes).expect("decodes").dimensions(), (MAX_SIDE, 683));

        let mut clear = Cursor::new(Vec::new());
        DynamicImage::ImageRgba8(image::RgbaImage::new(4, 4)).write_to(&mut clear, ImageFormat::Png).expect("encode");
        assert_eq!(clean("image/png", clear.get_ref()).expect("clean").content_type, "image/png");
    }

    #[test]
    fn files_that_are_not_images_are_refused() {
        let e = clean("image/png", b"\x89PNG\r\n\x1a\n not really").expect_err("refused");
        assert_eq!(e, Refusal::NotAnImage("the file is not a valid image/png image".into()));
        assert!(clean("text/plain", b"hello").is_err());
    }
}

#[cfg(test)]
mod password_tests {
    use std::sync::Arc;

    use civic311_app::passwords::{self, PasswordHasher};

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let hasher: Arc<dyn PasswordHasher> = Arc::new(super::Argon2Passwords);
        let h = passwords::hash(&hasher, "correct horse battery".into()).await.expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(passwords::verify(&hasher, "correct horse battery".into(), Some(h.clone())).await);
        assert!(!passwords::verify(&hasher, "wrong horse battery".into(), Some(h)).await);
        assert!(!passwords::verify(&hasher, "anything at all".into(), None).await, "the decoy never matches");
        // The decoy must really be hashed against, or an unknown name answers faster.
        assert!(argon2::password_hash::phc::PasswordHash::new(super::DECOY).is_ok());
    }
}
