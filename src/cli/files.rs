//! Reading the files a user names, each with a size cap, and writing new
//! files. A cap keeps a mistaken argument (`/dev/zero`, a disk image) from
//! being read until memory runs out; the error names the file and the cap.
//! Nothing here quotes a file's content in an error: a key file passed in
//! the wrong place must not end up on a terminal or in a CI log.

use std::fs;
use std::io::{self, Read, Write};
use std::path::Path;

use forewarn_ledger::PublicKey;
use forewarn_tlog::note::{SignerKey, VerifierKey};
use zeroize::Zeroizing;

use super::{Failure, Outcome};

/// Key files: `.key` (`PRIVATE+KEY+name+id+base64`) and `.vkey`, a line each.
pub const KEY_FILE_LIMIT: u64 = 4 * 1024;
/// Notes, tlog-proofs and `--leaf` entries: well above the formats' own
/// limits (`MAX_NOTE_SIZE`, `MAX_PROOF_SIZE`), so the parser names the
/// problem for anything that is merely malformed.
pub const INPUT_LIMIT: u64 = 4 * 1024 * 1024;
/// Policy files: the ledger's TOML policies and c2sp.org/tlog-policy files
/// (whose own limit is `forewarn_tlog::policy::MAX_POLICY_SIZE`, the same).
pub const POLICY_FILE_LIMIT: u64 = 64 * 1024;
/// Documents of which only the SHA-256 is recorded (`--content`,
/// `--advisory`); they are hashed as they are read, never held whole.
pub const HASHED_FILE_LIMIT: u64 = 64 * 1024 * 1024;

/// A size as people read it: `4 MiB`, `128 KiB`, `512 bytes`.
pub fn size_text(bytes: u64) -> String {
    if bytes >= 1024 * 1024 && bytes.is_multiple_of(1024 * 1024) {
        format!("{} MiB", bytes / (1024 * 1024))
    } else if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}

/// Why a capped read failed.
pub enum ReadError {
    /// The file could not be opened or read.
    Io(io::Error),
    /// The file is larger than the cap.
    TooLarge,
}

/// The error for a file over its cap: which file, which cap.
pub fn too_large(name: &str, limit: u64) -> Failure {
    Failure::input(
        format!("{name} is larger than {}", size_text(limit)),
        "pass the file itself, not a device or another kind of file",
    )
}

/// Reads at most `limit` bytes from `reader`; more is an error. The
/// buffer is wiped when dropped (it may hold a key).
fn read_limited(reader: impl Read, limit: u64) -> Result<Zeroizing<Vec<u8>>, ReadError> {
    // Small files get their whole buffer up front, so no reallocation
    // leaves a copy of a key behind in freed memory.
    let capacity = if limit <= KEY_FILE_LIMIT {
        limit + 1
    } else {
        0
    };
    let mut buf = Zeroizing::new(Vec::with_capacity(capacity as usize));
    reader
        .take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(ReadError::Io)?;
    if buf.len() as u64 > limit {
        return Err(ReadError::TooLarge);
    }
    Ok(buf)
}

/// Reads a whole file of at most `limit` bytes.
pub fn read_capped(path: &Path, limit: u64) -> Result<Zeroizing<Vec<u8>>, ReadError> {
    read_limited(fs::File::open(path).map_err(ReadError::Io)?, limit)
}

/// Reads a UTF-8 text file of at most `limit` bytes; non-UTF-8 content is
/// the same I/O error `std::fs::read_to_string` gives.
pub fn read_text_capped(path: &Path, limit: u64) -> Result<Zeroizing<String>, ReadError> {
    let bytes = read_capped(path, limit)?;
    match std::str::from_utf8(&bytes) {
        Ok(s) => Ok(Zeroizing::new(s.to_owned())),
        Err(_) => Err(ReadError::Io(io::Error::new(
            io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        ))),
    }
}

/// Reads a text file, turning an I/O error into `io_failure(e)` and an
/// oversized file into [`too_large`].
pub fn read_text_or(
    path: &Path,
    limit: u64,
    io_failure: impl FnOnce(io::Error) -> Failure,
) -> Result<Zeroizing<String>, Failure> {
    read_text_capped(path, limit).map_err(|e| match e {
        ReadError::Io(e) => io_failure(e),
        ReadError::TooLarge => too_large(&path.display().to_string(), limit),
    })
}

/// A note or proof from a file, or from standard input if `input` is
/// absent or `-`; at most [`INPUT_LIMIT`] bytes.
pub fn read_input(input: Option<&Path>) -> Result<Vec<u8>, Failure> {
    let result = match input {
        None => read_limited(io::stdin(), INPUT_LIMIT),
        Some(p) if p == Path::new("-") => read_limited(io::stdin(), INPUT_LIMIT),
        Some(p) => read_capped(p, INPUT_LIMIT),
    };
    let name = input.map_or("standard input".to_string(), |p| p.display().to_string());
    match result {
        Ok(mut buf) => Ok(std::mem::take(&mut *buf)),
        Err(ReadError::Io(e)) => Err(Failure::input(
            format!("cannot read {name}: {e}"),
            "check the path",
        )),
        Err(ReadError::TooLarge) => Err(Failure::input(
            format!("{name} is larger than {}", size_text(INPUT_LIMIT)),
            "pass the note or proof file itself",
        )),
    }
}

/// The SHA-256 of a file of at most [`HASHED_FILE_LIMIT`] bytes, read in
/// pieces. `what` names the file's role in errors ("notice", "advisory").
pub fn sha256_file(path: &Path, what: &str) -> Result<[u8; 32], Failure> {
    use sha2::{Digest, Sha256};
    let read_error = |e: io::Error| {
        Failure::input(
            format!("cannot read {what} {}: {e}", path.display()),
            "check the path",
        )
    };
    let file = fs::File::open(path).map_err(read_error)?;
    let mut hasher = Sha256::new();
    let mut reader = file.take(HASHED_FILE_LIMIT + 1);
    let mut buf = [0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(read_error(e)),
        };
        total += n as u64;
        if total > HASHED_FILE_LIMIT {
            return Err(too_large(
                &format!("{what} {}", path.display()),
                HASHED_FILE_LIMIT,
            ));
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finalize().into())
}

/// Creates a file that must not exist yet; private files get mode 0600
/// from the moment they are created.
pub fn write_new_file(path: &Path, bytes: &[u8], private: bool) -> Outcome {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(if private { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut f = opts.open(path).map_err(|e| {
        Failure::input(
            format!("cannot create {}: {e}", path.display()),
            "check the directory exists, is writable, and holds no file of that name",
        )
    })?;
    f.write_all(bytes).and_then(|()| f.sync_all()).map_err(|e| {
        Failure::input(
            format!("cannot write {}: {e}", path.display()),
            "check free disk space",
        )
    })
}

/// Whether `text` holds private key text (`PRIVATE+KEY+…`, in any case):
/// a key pasted where a file name, a vkey or a policy goes. Such an
/// argument is never repeated back in an error.
fn holds_key_text(text: &str) -> bool {
    text.to_ascii_uppercase().contains("PRIVATE+KEY")
}

/// An argument as an error quotes it (`"…"`), unless it holds private key
/// text: then only what it is.
pub fn shown_argument(arg: &str) -> String {
    if holds_key_text(arg) {
        "the argument (a private key)".to_string()
    } else {
        format!("{arg:?}")
    }
}

/// A path as an error shows it, unless it holds private key text (a key
/// given where its file name goes): then only what it is.
pub fn shown_path(path: &Path) -> String {
    let shown = path.display().to_string();
    if holds_key_text(&shown) {
        "the path given (a private key, not a file name)".to_string()
    } else {
        shown
    }
}

/// A signer key from a `.key` file written by `forewarn keygen`.
pub fn load_signer(path: &Path) -> Result<SignerKey, Failure> {
    // The key file's text is the secret: it is wiped after parsing.
    let text = read_text_or(path, KEY_FILE_LIMIT, |e| {
        Failure::input(
            format!("cannot read key file {}: {e}", shown_path(path)),
            "pass the .key file written by forewarn keygen",
        )
    })?;
    SignerKey::parse(text.trim_end_matches('\n')).map_err(|e| {
        Failure::input(
            format!("{} is not a signer key: {e}", shown_path(path)),
            "pass the .key file (PRIVATE+KEY+…) written by forewarn keygen, not the .vkey",
        )
    })
}

/// A vkey given literally, or the first line of a file holding one.
pub fn load_vkey(arg: &str) -> Result<VerifierKey, Failure> {
    if let Ok(k) = VerifierKey::parse(arg) {
        return Ok(k);
    }
    let path = Path::new(arg);
    if !path.exists() {
        let err = VerifierKey::parse(arg)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        // A private key pasted in place of a vkey is not repeated back,
        // wherever in the argument it starts.
        return Err(Failure::input(
            format!(
                "{} is neither a vkey nor a file: {err}",
                shown_argument(arg)
            ),
            "pass vkey text such as name+1234abcd+AQ… or the .vkey file written by forewarn keygen",
        ));
    }
    let text = read_text_or(path, KEY_FILE_LIMIT, |e| {
        Failure::input(
            format!("cannot read {}: {e}", path.display()),
            "check the path",
        )
    })?;
    let line = text.lines().next().unwrap_or_default();
    VerifierKey::parse(line).map_err(|e| {
        Failure::input(
            format!("{} does not hold a vkey: {e}", path.display()),
            "pass the .vkey file, not the private .key file",
        )
    })
}

/// A party key given as a .key or .vkey file.
pub fn public_key_file(path: &Path) -> Result<PublicKey, Failure> {
    let text = read_text_or(path, KEY_FILE_LIMIT, |e| {
        Failure::input(
            format!("cannot read {}: {e}", shown_path(path)),
            "check the path",
        )
    })?;
    let text = text.trim_end();
    if let Ok(k) = SignerKey::parse(text) {
        return Ok(PublicKey(k.ed25519().verifying_key().to_bytes()));
    }
    let v = VerifierKey::parse(text).map_err(|e| {
        Failure::input(
            format!("{} is not a key file: {e}", path.display()),
            "pass a .key or .vkey file from forewarn keygen",
        )
    })?;
    Ok(PublicKey(v.public_key().to_bytes()))
}

/// Where a parse error is in `text`: 1-based line and column (in
/// characters) of byte `offset`.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit_once('\n')
        .map_or(before, |(_, l)| l)
        .chars()
        .count()
        + 1;
    (line, column)
}

/// A TOML or serde error message without anything quoted from the file:
/// fragments in backticks or double quotes before the word "expected" come
/// from the input and become `…`; what follows "expected" describes the
/// grammar or the fields, and stays. Only an "expected" outside quotes
/// counts: one inside a quoted fragment is the input's own text (a field
/// named `expected_x`). Lines are joined with "; ".
pub fn without_quotes_from_input(message: &str) -> String {
    let message = message.trim().replace('\n', "; ");
    let mut out = String::with_capacity(message.len());
    let mut rest = message.as_str();
    while let Some(c) = rest.chars().next() {
        if rest.starts_with("expected") {
            out.push_str(rest);
            break;
        }
        rest = &rest[c.len_utf8()..];
        if c == '`' || c == '"' {
            out.push(c);
            out.push('…');
            // Skip to the closing quote (escaped quotes included).
            let mut escaped = false;
            while let Some(d) = rest.chars().next() {
                rest = &rest[d.len_utf8()..];
                if d == c && !escaped {
                    out.push(c);
                    break;
                }
                escaped = d == '\\' && !escaped;
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(size_text(4 * 1024 * 1024), "4 MiB");
        assert_eq!(size_text(128 * 1024), "128 KiB");
        assert_eq!(size_text(100), "100 bytes");
    }

    #[test]
    fn positions_are_one_based() {
        assert_eq!(line_column("ab\ncd", 0), (1, 1));
        assert_eq!(line_column("ab\ncd", 4), (2, 2));
        assert_eq!(line_column("é\nx", 99), (2, 2));
    }

    #[test]
    fn quotes_before_expected_are_removed() {
        assert_eq!(
            without_quotes_from_input("unknown field `s3cr3t`, expected one of `name`, `cra`"),
            "unknown field `…`, expected one of `name`, `cra`"
        );
        assert_eq!(
            without_quotes_from_input("invalid type: string \"a\\\"b\", expected u32"),
            "invalid type: string \"…\", expected u32"
        );
        assert_eq!(
            without_quotes_from_input("invalid unquoted key\nexpected letters"),
            "invalid unquoted key; expected letters"
        );
        // "expected" inside the input's own quoted text does not end the
        // part that is removed.
        assert_eq!(
            without_quotes_from_input(
                "unknown field `my_expected_hunter2`, expected one of `name`"
            ),
            "unknown field `…`, expected one of `name`"
        );
        assert_eq!(
            without_quotes_from_input("invalid type: string \"expected hunter2\", expected u32"),
            "invalid type: string \"…\", expected u32"
        );
        // An unclosed quote hides everything after it.
        assert_eq!(
            without_quotes_from_input("bad `hunter2 expected x"),
            "bad `…"
        );
    }

    #[test]
    fn key_text_is_never_shown() {
        let key = "PRIVATE+KEY+a.example+12345678+AXNlY3JldA";
        for arg in [key.to_string(), format!(" {key}"), format!("\"{key}\"")] {
            assert_eq!(shown_argument(&arg), "the argument (a private key)");
            assert!(!shown_path(Path::new(&arg)).contains("AXNlY3JldA"));
        }
        assert_eq!(shown_argument("cert-cc"), "\"cert-cc\"");
        assert_eq!(shown_path(Path::new("keys/a.key")), "keys/a.key");
    }
}
