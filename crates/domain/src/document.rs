//! The documents an applicant attaches to an application: which kinds are accepted, told
//! by their first bytes (never by the type the browser declares), how large they may be,
//! and the file name kept for them.

use crate::i18n::Text;

/// Largest document accepted: a signed PDF of a project plan with scanned pages fits.
pub const MAX_DOCUMENT_BYTES: usize = 10 * 1024 * 1024;

/// Longest file name kept, in characters.
pub const MAX_FILE_NAME_CHARS: usize = 200;

/// A kind of document accepted, as its first bytes show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    Pdf,
    /// A CAdES signed file (`.p7m`, DER-encoded CMS SignedData): how Italian public bodies
    /// sign their acts digitally.
    SignedP7m,
    Png,
    Jpeg,
}

/// The object identifier of CMS SignedData (1.2.840.113549.1.7.2), DER-encoded with its tag.
const SIGNED_DATA_OID: [u8; 11] = [
    0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x02,
];

impl DocumentKind {
    /// The kind of `bytes`, or `None` when it is none of those accepted.
    pub fn sniff(bytes: &[u8]) -> Option<DocumentKind> {
        if bytes.starts_with(b"%PDF-") {
            Some(DocumentKind::Pdf)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(DocumentKind::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(DocumentKind::Jpeg)
        } else if is_signed_data(bytes) {
            Some(DocumentKind::SignedP7m)
        } else {
            None
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            DocumentKind::Pdf => "application/pdf",
            DocumentKind::SignedP7m => "application/pkcs7-mime",
            DocumentKind::Png => "image/png",
            DocumentKind::Jpeg => "image/jpeg",
        }
    }

    /// The extension a file of this kind is served with, whatever it was uploaded as.
    pub fn extension(self) -> &'static str {
        match self {
            DocumentKind::Pdf => "pdf",
            DocumentKind::SignedP7m => "p7m",
            DocumentKind::Png => "png",
            DocumentKind::Jpeg => "jpg",
        }
    }

    /// The kind stored under `content_type`.
    pub fn from_content_type(content_type: &str) -> Option<DocumentKind> {
        [
            DocumentKind::Pdf,
            DocumentKind::SignedP7m,
            DocumentKind::Png,
            DocumentKind::Jpeg,
        ]
        .into_iter()
        .find(|k| k.content_type() == content_type)
    }

    /// The kinds accepted, as a person reads them.
    pub fn accepted() -> &'static str {
        "PDF, PDF firmato (.p7m), PNG, JPEG"
    }
}

/// A DER SEQUENCE (definite or indefinite length) whose first element is the SignedData
/// object identifier.
fn is_signed_data(bytes: &[u8]) -> bool {
    if bytes.first() != Some(&0x30) {
        return false;
    }
    let header = match bytes.get(1) {
        Some(0x80) => 2,
        Some(n @ 0x81..=0x84) => 2 + usize::from(n - 0x80),
        _ => return false,
    };
    bytes
        .get(header..header + SIGNED_DATA_OID.len())
        .is_some_and(|oid| oid == SIGNED_DATA_OID)
}

/// The name a file is kept and shown under: without the folders some browsers send,
/// without control and format characters (a right-to-left override makes `…lmth.pdf`
/// read as `…fdp.html`) and quotes, at most [`MAX_FILE_NAME_CHARS`], never empty. It is
/// never the name a download is served under: see [`download_name`].
pub fn clean_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !crate::text::is_format_char(*c) && !matches!(c, '"' | ';'))
        .take(MAX_FILE_NAME_CHARS)
        .collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() || cleaned.chars().all(|c| c == '.') {
        "documento".to_string()
    } else {
        cleaned.to_string()
    }
}

/// The name a document is downloaded under: its attachment code and the extension of the
/// kind its bytes were found to be (`project_plan.pdf`), so that no uploaded name (such as
/// `atto.pdf.hta`) ever reaches the person's disk.
pub fn download_name(prefix: &str, attachment_code: &str, kind: Option<DocumentKind>) -> String {
    let safe = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    let ext = kind.map_or("bin", DocumentKind::extension);
    if prefix.is_empty() {
        format!("{}.{ext}", safe(attachment_code))
    } else {
        format!("{}_{}.{ext}", safe(prefix), safe(attachment_code))
    }
}

/// Why a document was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentProblem {
    Empty,
    TooLarge,
    WrongType,
}

impl DocumentProblem {
    pub fn code(self) -> &'static str {
        match self {
            DocumentProblem::Empty => "document_empty",
            DocumentProblem::TooLarge => "document_too_large",
            DocumentProblem::WrongType => "document_wrong_type",
        }
    }

    pub fn text(self) -> Text {
        match self {
            DocumentProblem::Empty => Text::new("Il file è vuoto.", "The file is empty."),
            DocumentProblem::TooLarge => Text::new(
                format!(
                    "Il file supera la dimensione massima di {} MiB.",
                    MAX_DOCUMENT_BYTES / (1024 * 1024)
                ),
                format!(
                    "The file exceeds the largest size accepted, {} MiB.",
                    MAX_DOCUMENT_BYTES / (1024 * 1024)
                ),
            ),
            DocumentProblem::WrongType => Text::new(
                format!(
                    "Tipo di file non ammesso: sono accettati {}.",
                    DocumentKind::accepted()
                ),
                "File type not accepted: PDF, signed PDF (.p7m), PNG and JPEG are.",
            ),
        }
    }
}

/// Checks a whole document: its kind, or why it is refused.
pub fn check_document(bytes: &[u8]) -> Result<DocumentKind, DocumentProblem> {
    if bytes.is_empty() {
        return Err(DocumentProblem::Empty);
    }
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(DocumentProblem::TooLarge);
    }
    DocumentKind::sniff(bytes).ok_or(DocumentProblem::WrongType)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_told_by_their_first_bytes() {
        assert_eq!(
            check_document(b"%PDF-1.7\n..."),
            Ok(DocumentKind::Pdf),
            "a PDF"
        );
        assert_eq!(
            check_document(b"\x89PNG\r\n\x1a\n...."),
            Ok(DocumentKind::Png)
        );
        assert_eq!(
            check_document(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]),
            Ok(DocumentKind::Jpeg)
        );
        let mut p7m = vec![0x30, 0x82, 0x12, 0x34];
        p7m.extend_from_slice(&SIGNED_DATA_OID);
        p7m.extend_from_slice(&[0xA0, 0x80]);
        assert_eq!(check_document(&p7m), Ok(DocumentKind::SignedP7m));
        let mut indefinite = vec![0x30, 0x80];
        indefinite.extend_from_slice(&SIGNED_DATA_OID);
        assert_eq!(check_document(&indefinite), Ok(DocumentKind::SignedP7m));
    }

    #[test]
    fn other_files_are_refused_whatever_their_name() {
        for bytes in [
            &b"<html><script>alert(1)</script>"[..],
            b"MZ\x90\x00",
            b"PK\x03\x04 a zip or a docx",
            b" %PDF-1.7 with a space first",
            // A DER sequence that is not SignedData (e.g. a certificate).
            &[0x30, 0x82, 0x01, 0x0A, 0x02, 0x82, 0x01, 0x01],
            &[0x30],
        ] {
            assert_eq!(
                check_document(bytes),
                Err(DocumentProblem::WrongType),
                "{bytes:?}"
            );
        }
        assert_eq!(check_document(b""), Err(DocumentProblem::Empty));
    }

    #[test]
    fn the_size_limit_is_inclusive() {
        let mut at_limit = b"%PDF-".to_vec();
        at_limit.resize(MAX_DOCUMENT_BYTES, b' ');
        assert_eq!(check_document(&at_limit), Ok(DocumentKind::Pdf));
        at_limit.push(b' ');
        assert_eq!(check_document(&at_limit), Err(DocumentProblem::TooLarge));
    }

    #[test]
    fn file_names_lose_folders_and_dangerous_characters() {
        assert_eq!(clean_file_name("C:\\Users\\me\\piano.pdf"), "piano.pdf");
        assert_eq!(clean_file_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_file_name("a\"b;c\r\nd.pdf"), "abcd.pdf");
        assert_eq!(clean_file_name(""), "documento");
        assert_eq!(clean_file_name(".."), "documento");
        assert_eq!(clean_file_name(&"x".repeat(500)).chars().count(), 200);
        assert_eq!(clean_file_name("Delibera è ok.pdf"), "Delibera è ok.pdf");
        assert_eq!(
            clean_file_name("delibera\u{202E}fdp.lmth"),
            "deliberafdp.lmth"
        );
        assert_eq!(clean_file_name("\u{200B}\u{200B}"), "documento");
    }

    #[test]
    fn downloads_are_named_by_code_and_detected_kind() {
        assert_eq!(
            download_name("", "project_plan", Some(DocumentKind::Pdf)),
            "project_plan.pdf"
        );
        assert_eq!(
            download_name(
                "ER-SW-2026/0000001",
                "resolution",
                Some(DocumentKind::SignedP7m)
            ),
            "ER-SW-2026_0000001_resolution.p7m"
        );
        assert_eq!(download_name("", "x.hta", None), "x_hta.bin");
        for k in [
            DocumentKind::Pdf,
            DocumentKind::SignedP7m,
            DocumentKind::Png,
            DocumentKind::Jpeg,
        ] {
            assert_eq!(DocumentKind::from_content_type(k.content_type()), Some(k));
        }
    }
}
