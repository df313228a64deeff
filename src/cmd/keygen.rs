//! `forewarn keygen`: a signing key and its verifier key (vkey).

use std::fs;
use std::path::PathBuf;

use clap::Args;
use forewarn_tlog::note::{self, SignatureType, SignerKey};
use zeroize::Zeroizing;

use crate::cli::files::write_new_file;
use crate::cli::output::outln;
use crate::cli::{Failure, Outcome};

/// Arguments of `forewarn keygen`.
#[derive(Args)]
pub struct KeygenArgs {
    /// Key name: a schema-less URL such as example.com/log (no spaces, no '+').
    #[arg(long)]
    name: String,
    /// Directory for the key files (created if missing).
    #[arg(long, default_value = ".")]
    out: PathBuf,
    /// Make a witness cosignature key (c2sp.org/tlog-cosignature, type 0x04)
    /// instead of a log or party signing key (type 0x01).
    #[arg(long)]
    witness: bool,
}

/// A file name for a key name: characters outside [A-Za-z0-9._-] become '_'.
fn key_file_stem(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Writes NAME.key (mode 0600) and NAME.vkey, never over an existing file,
/// and prints the vkey.
pub fn run(args: &KeygenArgs) -> Outcome {
    if !note::is_valid_key_name(&args.name) {
        return Err(Failure::input(
            format!("{:?} is not a valid key name", args.name),
            "use a schema-less URL such as example.com/log, without spaces or '+'",
        ));
    }
    let mut seed = Zeroizing::new([0u8; 32]);
    getrandom::fill(seed.as_mut()).map_err(Failure::no_randomness)?;
    let kind = if args.witness {
        SignatureType::CosignatureV1
    } else {
        SignatureType::Ed25519
    };
    let signer = SignerKey::from_seed(&args.name, kind, &seed)
        .map_err(|e| Failure::input(e.to_string(), "choose another key name"))?;
    seed.fill(0);
    fs::create_dir_all(&args.out).map_err(|e| {
        Failure::input(
            format!("cannot create {}: {e}", args.out.display()),
            "choose a writable --out directory",
        )
    })?;
    let stem = key_file_stem(&args.name);
    let key_path = args.out.join(format!("{stem}.key"));
    let vkey_path = args.out.join(format!("{stem}.vkey"));
    for p in [&key_path, &vkey_path] {
        if p.exists() {
            return Err(Failure::input(
                format!(
                    "{} already exists; refusing to overwrite a key",
                    p.display()
                ),
                "move the old key away first, or pass another --out directory",
            ));
        }
    }
    let mut key_text = Zeroizing::new(signer.to_text());
    key_text.push('\n');
    write_new_file(&key_path, key_text.as_bytes(), true)?;
    let vkey = signer.verifier().to_text();
    write_new_file(&vkey_path, format!("{vkey}\n").as_bytes(), false)?;
    eprintln!("wrote {} (private, mode 0600)", key_path.display());
    eprintln!("wrote {}", vkey_path.display());
    outln!("{vkey}");
    Ok(())
}
