//! Photos made safe to keep and publish. Every uploaded photo is decoded, turned
//! upright by its EXIF orientation, shrunk to fit [`MAX_SIDE`], and encoded afresh —
//! which drops every piece of metadata (GPS position, camera serial, time taken). The
//! orientation survives as the pixels themselves, so the photo still shows the right
//! way up everywhere. Files that do not decode are refused.

use std::io::Cursor;

use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

use civic311_domain::request::Media;
use civic311_domain::workflow::MAX_PHOTOS;

/// The longest side a stored photo keeps, in pixels: enough to read a sign or a plate.
pub const MAX_SIDE: u32 = 2048;

/// Largest dimensions a photo may declare; a larger one is a decompression bomb.
const MAX_DECLARED: u32 = 16_384;

/// Most pixels a photo may declare, checked from its header before any decoding: a
/// few kilobytes of PNG can declare gigabytes of zeros. A 48-megapixel phone photo
/// is 8000 × 6000; 40 megapixels keeps headroom for what phones send today.
pub const MAX_PIXELS: u64 = 40_000_000;

/// Memory the decoder may use for one photo: enough for [`MAX_PIXELS`] in RGBA.
const MAX_ALLOC: u64 = 192 * 1024 * 1024;

/// Why a photo could not be kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// It does not decode as the image type it claims to be.
    NotAnImage(String),
    /// It declares more pixels (or needs more memory) than a photo may.
    TooLarge(String),
    /// It decoded but could not be encoded again.
    Failed(String),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotAnImage(s) | Self::TooLarge(s) | Self::Failed(s) => f.write_str(s),
        }
    }
}

/// JPEG quality of stored photos.
const QUALITY: u8 = 85;

/// A photo ready to store: its type and bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cleaned {
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

/// The largest photo accepted.
const MAX_PHOTO_BYTES: usize = 10 * 1024 * 1024;

/// Why an uploaded photo was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhotoProblem {
    WrongType {
        field: String,
        content_type: String,
    },
    Invalid {
        field: String,
        detail: String,
    },
    /// Too many bytes, or too many pixels (`detail` says which).
    TooLarge {
        field: String,
        detail: String,
    },
    TooMany,
    /// Every photo worker stayed busy: nothing is wrong with the photo.
    Busy,
}

impl std::fmt::Display for PhotoProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::WrongType { field, content_type } => {
                write!(f, "{field}: photos must be JPEG, PNG, WebP or GIF, not {content_type}")
            }
            Self::Invalid { field, detail } | Self::TooLarge { field, detail } => write!(f, "{field}: {detail}"),
            Self::TooMany => write!(f, "at most {MAX_PHOTOS} photos at a time"),
            Self::Busy => write!(f, "the server is busy with other photos; try again in a minute"),
        }
    }
}

/// An uploaded file as received: nothing about it is decoded yet.
pub struct Upload {
    /// The form field it came in.
    pub field: String,
    /// The type the sender declared.
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// Checks and cleans uploads as photos: JPEG, PNG, WebP or GIF whose bytes match the
/// type, at most 10 MB and [`MAX_PIXELS`], at most five, each cleaned by
/// [`clean`] (upright, at most 2048 px, no metadata) on one of a few
/// workers. Photos come back public; the caller decides otherwise. The first problem
/// stops the work.
pub async fn clean_photos(uploads: Vec<Upload>) -> Result<Vec<Media>, PhotoProblem> {
    if uploads.len() > MAX_PHOTOS {
        return Err(PhotoProblem::TooMany);
    }
    let mut out = Vec::with_capacity(uploads.len());
    for u in uploads {
        out.push(photo(u).await?);
    }
    Ok(out)
}

/// How many photos are decoded at once, whoever sends them: decoding is the costliest
/// thing an outsider can ask for, in time and memory.
fn decoders() -> &'static tokio::sync::Semaphore {
    static DECODERS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    DECODERS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        tokio::sync::Semaphore::new(cores.clamp(1, 4))
    })
}

/// How long a photo waits for a worker before the sender is asked to come back.
const DECODE_WAIT: std::time::Duration = std::time::Duration::from_secs(20);

/// One uploaded photo, checked and cleaned.
async fn photo(u: Upload) -> Result<Media, PhotoProblem> {
    let Upload { field, content_type: ct, bytes } = u;
    if !matches!(ct.as_str(), "image/jpeg" | "image/png" | "image/webp" | "image/gif") {
        return Err(PhotoProblem::WrongType { field, content_type: ct });
    }
    if bytes.len() > MAX_PHOTO_BYTES {
        let detail = format!("a photo may be at most {} MB", MAX_PHOTO_BYTES / 1024 / 1024);
        return Err(PhotoProblem::TooLarge { field, detail });
    }
    if !looks_like(&ct, &bytes) {
        return Err(PhotoProblem::Invalid { detail: format!("the file is not a valid {ct} image"), field });
    }
    let Ok(Ok(_permit)) = tokio::time::timeout(DECODE_WAIT, decoders().acquire()).await else {
        return Err(PhotoProblem::Busy);
    };
    match tokio::task::spawn_blocking(move || clean(&ct, &bytes)).await {
        Ok(Ok(c)) => Ok(Media { content_type: c.content_type.to_owned(), bytes: c.bytes, public: true }),
        Ok(Err(Refusal::TooLarge(detail))) => Err(PhotoProblem::TooLarge { field, detail }),
        Ok(Err(r)) => Err(PhotoProblem::Invalid { field, detail: r.to_string() }),
        Err(e) => Err(PhotoProblem::Invalid { field, detail: format!("the photo could not be read: {e}") }),
    }
}

/// True when the file starts with the signature of its declared image type.
fn looks_like(content_type: &str, bytes: &[u8]) -> bool {
    match content_type {
        "image/jpeg" => bytes.starts_with(&[0xFF, 0xD8, 0xFF]),
        "image/png" => bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "image/gif" => bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a"),
        "image/webp" => bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP",
        _ => false,
    }
}

/// Decodes, rotates, shrinks and re-encodes a photo of `content_type`. Photos without
/// transparency become JPEG, others PNG. The size the photo declares is checked
/// against [`MAX_PIXELS`] before anything is decoded. The error is a sentence for the
/// sender.
pub fn clean(content_type: &str, bytes: &[u8]) -> Result<Cleaned, Refusal> {
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
