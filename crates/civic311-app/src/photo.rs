//! Photos made safe to keep and publish. Every uploaded photo is checked (type, size,
//! signature), then decoded, turned upright by its EXIF orientation, shrunk to fit
//! [`MAX_SIDE`], and encoded afresh by a [`PhotoDecoder`] — which drops every piece of
//! metadata (GPS position, camera serial, time taken). The orientation survives as the
//! pixels themselves, so the photo still shows the right way up everywhere. Files that
//! do not decode are refused.

use std::sync::Arc;

use civic311_domain::request::Media;
use civic311_domain::workflow::MAX_PHOTOS;

/// The longest side a stored photo keeps, in pixels: enough to read a sign or a plate.
pub const MAX_SIDE: u32 = 2048;

/// Largest dimensions a photo may declare; a larger one is a decompression bomb.
pub const MAX_DECLARED: u32 = 16_384;

/// Most pixels a photo may declare, checked from its header before any decoding: a
/// few kilobytes of PNG can declare gigabytes of zeros. A 48-megapixel phone photo
/// is 8000 × 6000; 40 megapixels keeps headroom for what phones send today.
pub const MAX_PIXELS: u64 = 40_000_000;

/// Memory the decoder may use for one photo: enough for [`MAX_PIXELS`] in RGBA.
pub const MAX_ALLOC: u64 = 192 * 1024 * 1024;

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
pub const QUALITY: u8 = 85;

/// What turns an upload into a photo fit to keep: decodes it (refusing what declares
/// more than [`MAX_PIXELS`] before decoding, and using at most [`MAX_ALLOC`]), turns it
/// upright, shrinks it to [`MAX_SIDE`] and encodes it afresh without metadata. The
/// application calls it on a few workers; the binary supplies it (civic311-codecs), so
/// the crates that only route requests do not build an image library.
pub trait PhotoDecoder: Send + Sync + 'static {
    fn clean(&self, content_type: &str, bytes: &[u8]) -> Result<Cleaned, Refusal>;
}

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
/// type, at most 10 MB and [`MAX_PIXELS`], at most five, each cleaned by `decoder`
/// (upright, at most 2048 px, no metadata) on one of a few workers. Photos come back
/// public; the caller decides otherwise. The first problem stops the work.
pub async fn clean_photos(decoder: &Arc<dyn PhotoDecoder>, uploads: Vec<Upload>) -> Result<Vec<Media>, PhotoProblem> {
    if uploads.len() > MAX_PHOTOS {
        return Err(PhotoProblem::TooMany);
    }
    let mut out = Vec::with_capacity(uploads.len());
    for u in uploads {
        out.push(photo(Arc::clone(decoder), u).await?);
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
async fn photo(decoder: Arc<dyn PhotoDecoder>, u: Upload) -> Result<Media, PhotoProblem> {
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
    match tokio::task::spawn_blocking(move || decoder.clean(&ct, &bytes)).await {
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
