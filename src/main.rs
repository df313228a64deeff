//! `forewarn`: who learned of each software flaw, and when.
//!
//! This binary is a thin shell over the pure libraries in `crates/`: it
//! reads files, asks the OS for randomness and the clock, and turns errors
//! into one sentence plus a hint. Exit codes (docs/CLI.md):
//! 0 success / verified, 1 verification failed, 2 usage or input error.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use forewarn_tlog::checkpoint::Checkpoint;
use forewarn_tlog::note::{self, Note, OpenError, SignatureType, SignerKey, VerifierKey};
use forewarn_tlog::policy::Policy;
use forewarn_tlog::proof::{TlogProof, TlogProofError};
use zeroize::Zeroizing;

mod audit;
mod bench;
mod demo;
mod json;
mod ledger;
mod time;

/// forewarn: a transparency log for disclosure timelines.
///
/// Every early warning about a software flaw becomes a signed record in an
/// append-only Merkle-tree log (RFC 9162, C2SP formats), so anyone can check
/// who was told, how early, and whether an embargo held.
#[derive(Parser)]
#[command(name = "forewarn", version, propagate_version = true)]
#[command(
    after_help = "Start with `forewarn demo`. Exit codes: 0 success, verified or clean; 1 verification failed, findings, or a statement refused; 2 usage or input error; 3 integrity failure (docs/CLI.md).\nDocs: docs/CLI.md, docs/FORMAT.md"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a signing key and its verifier key (vkey).
    ///
    /// Writes NAME.key (the private key, mode 0600) and NAME.vkey into the
    /// output directory, and prints the vkey. Never overwrites a key.
    ///
    /// Example: forewarn keygen --name example.com/log --out keys/
    Keygen(KeygenArgs),
    /// Sign or verify C2SP signed notes (a checkpoint is a note).
    #[command(subcommand)]
    Note(NoteCommand),
    /// Verify offline proofs of logging (c2sp.org/tlog-proof@v1).
    #[command(subcommand)]
    Proof(ProofCommand),
    /// Create a ledger: its directory, database and log key; prints the vkey.
    ///
    /// Example: forewarn init --origin ledger.acme.example --dir forewarn-data
    Init {
        /// The log's name (a schema-less URL); it appears in every checkpoint.
        #[arg(long)]
        origin: String,
        #[command(flatten)]
        dir: ledger::DirArg,
    },
    #[command(flatten)]
    Step(ledger::Step),
    /// Sign a statement without appending it (to hand to the ledger's operator).
    #[command(subcommand)]
    Statement(StatementCommand),
    /// Append statements signed elsewhere (files from `forewarn statement sign`).
    ///
    /// Example: forewarn append notice-14.statement
    Append {
        /// Signed statement files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        dir: ledger::DirArg,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Audit a whole ledger or tile export: every hash, link, signature and
    /// rule. Exit 0 clean, 1 findings only, 3 integrity failure, 2 bad input.
    ///
    /// Example: forewarn audit --dir forewarn-data --policy cert-cc
    Audit(audit::AuditArgs),
    /// Who knew what, when: per case, per party, or a summary.
    #[command(subcommand)]
    Report(audit::ReportCmd),
    /// Write the log as static C2SP tlog-tiles files any web server can host.
    ///
    /// Example: forewarn export --to public/ && forewarn audit --tiles public/ --vkey forewarn-data/log.vkey
    Export {
        /// Output directory.
        #[arg(long)]
        to: PathBuf,
        #[command(flatten)]
        dir: ledger::DirArg,
    },
    /// Walk the ledger's storage and prove it consistent with its checkpoint.
    ///
    /// Example: forewarn check --dir forewarn-data
    Check {
        #[command(flatten)]
        dir: ledger::DirArg,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Build a realistic ledger from scratch, audit it, and explain the reports.
    ///
    /// Example: forewarn demo
    Demo {
        /// Where to build it (replaced if it holds an earlier demo).
        #[arg(long, default_value = "forewarn-demo")]
        dir: PathBuf,
    },
    /// Benchmarks on this machine.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

#[derive(Subcommand)]
enum StatementCommand {
    /// Sign one step to a file instead of appending it.
    ///
    /// Example: forewarn statement sign --out ack.statement ack --key keys/cert.key --notice 14
    Sign {
        /// The file to write.
        #[arg(long)]
        out: PathBuf,
        #[command(subcommand)]
        step: ledger::Step,
    },
}

#[derive(Args)]
struct KeygenArgs {
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

#[derive(Subcommand)]
enum NoteCommand {
    /// Sign note text and print the signed note.
    ///
    /// The input is note text (UTF-8, ending in a newline), or a signed note
    /// to which one more signature is added. With a witness key, adds a
    /// cosignature over a checkpoint at the current time.
    ///
    /// Example: printf 'hello\n' | forewarn note sign --key keys/example.com_log.key
    Sign {
        /// Private key file written by `forewarn keygen`.
        #[arg(long)]
        key: PathBuf,
        /// Input file; reads standard input if absent or "-".
        input: Option<PathBuf>,
    },
    /// Verify a signed note against trusted keys and print which verified.
    ///
    /// Signatures by keys not given are ignored; a signature by a given key
    /// that fails rejects the note. Exit 0 verified, 1 not verified, 2 bad input.
    ///
    /// Example: forewarn note verify --vkey keys/example.com_log.vkey note.txt
    Verify {
        /// Trusted verifier key, as vkey text or a file holding it; repeat for more.
        #[arg(long = "vkey", required = true)]
        vkeys: Vec<String>,
        /// Input file; reads standard input if absent or "-".
        input: Option<PathBuf>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ProofCommand {
    /// Verify a tlog-proof for an entry, offline.
    ///
    /// Checks the checkpoint's signature by the log key (and the witness
    /// quorum, with --policy), then that the entry's leaf hash is at the
    /// proof's index in the checkpointed tree. Exit 0 verified, 1 not, 2 bad input.
    ///
    /// Example: forewarn proof verify --vkey log.vkey --leaf entry.bin entry.tlog-proof
    Verify {
        /// The log's verifier key, as vkey text or a file holding it.
        #[arg(long)]
        vkey: String,
        /// File with the entry's exact bytes (the Merkle leaf data). Omit it
        /// for a forewarn receipt, which carries its record: then the record
        /// and its statement signature are checked too.
        #[arg(long)]
        leaf: Option<PathBuf>,
        /// A c2sp.org/tlog-policy file; its witness quorum must be met.
        #[arg(long)]
        policy: Option<PathBuf>,
        /// The proof file (.tlog-proof).
        proof: PathBuf,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// A failure, as the user sees it: one sentence, a hint, an exit code.
pub(crate) struct Failure {
    pub(crate) code: u8,
    pub(crate) message: String,
    pub(crate) hint: Option<String>,
}

impl Failure {
    fn input(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Failure {
            code: 2,
            message: message.into(),
            hint: Some(hint.into()),
        }
    }
    fn not_verified(message: impl Into<String>) -> Self {
        Failure {
            code: 1,
            message: message.into(),
            hint: None,
        }
    }
}

pub(crate) type Outcome = Result<(), Failure>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Keygen(args) => keygen(&args),
        Command::Note(NoteCommand::Sign { key, input }) => note_sign(&key, input.as_deref()),
        Command::Note(NoteCommand::Verify { vkeys, input, json }) => {
            note_verify(&vkeys, input.as_deref(), json)
        }
        Command::Proof(ProofCommand::Verify {
            vkey,
            leaf,
            policy,
            proof,
            json,
        }) => proof_verify(&vkey, leaf.as_deref(), policy.as_deref(), &proof, json),
        Command::Init { origin, dir } => init(&origin, &dir.dir),
        Command::Step(step) => ledger::run(&step, false),
        Command::Statement(StatementCommand::Sign { out, step }) => {
            ledger::sign_to_file(&step, &out)
        }
        Command::Append { files, dir, json } => ledger::append_files(&dir.dir, &files, json),
        Command::Audit(args) => audit::audit(&args),
        Command::Report(cmd) => audit::report_cmd(&cmd),
        Command::Export { to, dir } => audit::export(&dir.dir, &to),
        Command::Check { dir, json } => audit::check(&dir.dir, json),
        Command::Demo { dir } => demo::run(&dir),
        Command::Bench(cmd) => bench::run(&cmd),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("forewarn: {}", f.message);
            if let Some(h) = f.hint {
                eprintln!("hint: {h}");
            }
            ExitCode::from(f.code)
        }
    }
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

fn keygen(args: &KeygenArgs) -> Outcome {
    if !note::is_valid_key_name(&args.name) {
        return Err(Failure::input(
            format!("{:?} is not a valid key name", args.name),
            "use a schema-less URL such as example.com/log, without spaces or '+'",
        ));
    }
    let mut seed = Zeroizing::new([0u8; 32]);
    getrandom::fill(seed.as_mut()).map_err(|e| Failure {
        code: 2,
        message: format!("the operating system gave no randomness: {e}"),
        hint: None,
    })?;
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
    let mut key_text = signer.to_text();
    key_text.push('\n');
    write_new_file(&key_path, key_text.as_bytes(), true)?;
    let vkey = signer.verifier().to_text();
    write_new_file(&vkey_path, format!("{vkey}\n").as_bytes(), false)?;
    eprintln!("wrote {} (private, mode 0600)", key_path.display());
    eprintln!("wrote {}", vkey_path.display());
    println!("{vkey}");
    Ok(())
}

/// Creates a file that must not exist yet; private files get mode 0600
/// from the moment they are created.
pub(crate) fn write_new_file(path: &Path, bytes: &[u8], private: bool) -> Outcome {
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

fn read_input(input: Option<&Path>) -> Result<Vec<u8>, Failure> {
    // Inputs are notes and proofs: a generous cap keeps a mistaken huge
    // file from being read whole.
    const LIMIT: u64 = 4 * 1024 * 1024;
    let mut buf = Vec::new();
    let result = match input {
        None => io::stdin().take(LIMIT + 1).read_to_end(&mut buf),
        Some(p) if p == Path::new("-") => io::stdin().take(LIMIT + 1).read_to_end(&mut buf),
        Some(p) => fs::File::open(p).and_then(|f| f.take(LIMIT + 1).read_to_end(&mut buf)),
    };
    let name = input.map_or("standard input".to_string(), |p| p.display().to_string());
    result.map_err(|e| Failure::input(format!("cannot read {name}: {e}"), "check the path"))?;
    if buf.len() as u64 > LIMIT {
        return Err(Failure::input(
            format!("{name} is larger than 4 MiB"),
            "pass the note or proof file itself",
        ));
    }
    Ok(buf)
}

pub(crate) fn load_signer(path: &Path) -> Result<SignerKey, Failure> {
    // The key file's text is the secret: wipe it after parsing.
    let text = fs::read_to_string(path).map(Zeroizing::new).map_err(|e| {
        Failure::input(
            format!("cannot read key file {}: {e}", path.display()),
            "pass the .key file written by forewarn keygen",
        )
    })?;
    SignerKey::parse(text.trim_end_matches('\n')).map_err(|e| {
        Failure::input(
            format!("{} is not a signer key: {e}", path.display()),
            "pass the .key file (PRIVATE+KEY+…) written by forewarn keygen, not the .vkey",
        )
    })
}

/// A vkey given literally, or the first line of a file holding one.
pub(crate) fn load_vkey(arg: &str) -> Result<VerifierKey, Failure> {
    if let Ok(k) = VerifierKey::parse(arg) {
        return Ok(k);
    }
    let path = Path::new(arg);
    if !path.exists() {
        let err = VerifierKey::parse(arg)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        return Err(Failure::input(
            format!("{arg:?} is neither a vkey nor a file: {err}"),
            "pass vkey text such as name+1234abcd+AQ… or the .vkey file written by forewarn keygen",
        ));
    }
    let text = fs::read_to_string(path).map_err(|e| {
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

fn now_unix_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn note_sign(key: &Path, input: Option<&Path>) -> Outcome {
    let signer = load_signer(key)?;
    let bytes = read_input(input)?;
    // A signed note gets one more signature; otherwise the input is the text.
    let mut note = match Note::parse(&bytes) {
        Ok(n) => n,
        Err(_) => {
            let text = std::str::from_utf8(&bytes).map_err(|_| {
                Failure::input("the input is not UTF-8 text", "notes are UTF-8 text")
            })?;
            Note::new(text).map_err(|e| {
                Failure::input(
                    format!("the input is not valid note text: {e}"),
                    "note text is UTF-8, has no control characters but newlines, and ends with a newline",
                )
            })?
        }
    };
    match signer.kind() {
        SignatureType::CosignatureV1 => {
            Checkpoint::parse(note.text()).map_err(|e| {
                Failure::input(
                    format!("a witness key cosigns checkpoints, and the input is not one: {e}"),
                    "sign plain notes with a log key (forewarn keygen without --witness)",
                )
            })?;
            let sig = signer.cosign(note.text(), now_unix_seconds());
            note.push_signature(sig);
        }
        _ => note.sign(&signer),
    }
    io::stdout().write_all(&note.to_bytes()).map_err(|e| {
        Failure::input(
            format!("cannot write the note: {e}"),
            "check standard output",
        )
    })
}

fn note_verify(vkeys: &[String], input: Option<&Path>, json: bool) -> Outcome {
    let keys = vkeys
        .iter()
        .map(|v| load_vkey(v))
        .collect::<Result<Vec<_>, _>>()?;
    let bytes = read_input(input)?;
    match note::open(&bytes, &keys) {
        Ok(opened) => {
            if json {
                let verified: Vec<String> = opened
                    .verified
                    .iter()
                    .map(|s| json::string(&format!("{}+{}", s.name, s.key_id)))
                    .collect();
                println!(
                    "{{\"verified\":true,\"verified_by\":[{}],\"unverified_signatures\":{},\"text\":{}}}",
                    verified.join(","),
                    opened.unverified.len(),
                    json::string(&opened.text)
                );
            } else {
                for s in &opened.verified {
                    println!("verified: {}+{}", s.name, s.key_id);
                }
                if !opened.unverified.is_empty() {
                    println!(
                        "ignored: {} signatures by keys not given",
                        opened.unverified.len()
                    );
                }
            }
            Ok(())
        }
        Err(OpenError::Malformed(e)) => Err(Failure::input(
            format!("the input is not a signed note: {e}"),
            "a signed note is text, a blank line, then lines '— name signature'",
        )),
        Err(e) => {
            if json {
                println!(
                    "{{\"verified\":false,\"error\":{}}}",
                    json::string(&e.to_string())
                );
            }
            Err(Failure::not_verified(format!("not verified: {e}")))
        }
    }
}

fn proof_verify(
    vkey: &str,
    leaf: Option<&Path>,
    policy: Option<&Path>,
    proof: &Path,
    json: bool,
) -> Outcome {
    let key = load_vkey(vkey)?;
    let policy = match policy {
        None => None,
        Some(p) => {
            let text = fs::read_to_string(p).map_err(|e| {
                Failure::input(
                    format!("cannot read policy {}: {e}", p.display()),
                    "check the path",
                )
            })?;
            Some(Policy::parse(&text).map_err(|e| {
                Failure::input(
                    format!("{}: {e}", p.display()),
                    "see c2sp.org/tlog-policy for the format",
                )
            })?)
        }
    };
    let bytes = read_input(Some(proof))?;
    let parsed = TlogProof::parse(&bytes).map_err(|e| {
        Failure::input(
            format!("{} is not a tlog-proof: {e}", proof.display()),
            "a proof starts with the line c2sp.org/tlog-proof@v1",
        )
    })?;
    let entry = match leaf {
        Some(leaf) => fs::read(leaf).map_err(|e| {
            Failure::input(
                format!("cannot read leaf file {}: {e}", leaf.display()),
                "pass the file with the entry's exact bytes",
            )
        })?,
        None => {
            // A forewarn receipt: the record rides in the proof.
            return match forewarn_ledger::receipt::verify(&bytes, &key, policy.as_ref()) {
                Ok(v) => {
                    let event = v.statement.event.name();
                    if json {
                        println!(
                            "{}",
                            serde_json::json!({
                                "verified": true,
                                "index": v.record.index,
                                "origin": v.origin,
                                "tree_size": v.tree_size,
                                "event": event,
                                "case": v.statement.event.case().map(|c| c.to_string()),
                                "signer": forewarn_ledger::types::hex(&v.statement.signer.0),
                                "claimed_at": v.statement.claimed_at,
                                "logged_at": v.record.logged_at,
                            })
                        );
                    } else {
                        println!(
                            "verified: record {} ({event}) is in {} at tree size {}",
                            v.record.index, v.origin, v.tree_size
                        );
                        println!(
                            "claimed {} · logged {} · signed by {}",
                            time::format_time(v.statement.claimed_at),
                            time::format_time(v.record.logged_at),
                            forewarn_ledger::types::hex(&v.statement.signer.0)
                        );
                    }
                    Ok(())
                }
                Err(e) => {
                    if json {
                        println!(
                            "{}",
                            serde_json::json!({"verified": false, "error": e.to_string()})
                        );
                    }
                    Err(Failure {
                        code: 1,
                        message: format!("not verified: {e}"),
                        hint: Some("pass --leaf FILE for a proof that carries no record".into()),
                    })
                }
            };
        }
    };
    match parsed.verify(&entry, &key, policy.as_ref()) {
        Ok(v) => {
            if json {
                let w: Vec<String> = v
                    .witnessed
                    .iter()
                    .map(|(n, t)| format!("{{\"witness\":{},\"time\":{t}}}", json::string(n)))
                    .collect();
                println!(
                    "{{\"verified\":true,\"index\":{},\"origin\":{},\"tree_size\":{},\"root\":{},\"witnesses\":[{}]}}",
                    v.index,
                    json::string(v.checkpoint.origin()),
                    v.checkpoint.size(),
                    json::string(&v.checkpoint.root().to_base64()),
                    w.join(",")
                );
            } else {
                println!(
                    "verified: entry {} is in {} at tree size {} (root {})",
                    v.index,
                    v.checkpoint.origin(),
                    v.checkpoint.size(),
                    v.checkpoint.root()
                );
                for (n, t) in &v.witnessed {
                    println!("witnessed: {n} at {t}");
                }
            }
            Ok(())
        }
        Err(e) => {
            if json {
                println!(
                    "{{\"verified\":false,\"error\":{}}}",
                    json::string(&e.to_string())
                );
            }
            let hint = match e {
                TlogProofError::Inclusion(_) => {
                    Some("check that --leaf holds exactly the logged entry's bytes".to_string())
                }
                TlogProofError::Checkpoint(_) => {
                    Some("check that --vkey is this log's key".to_string())
                }
                _ => None,
            };
            Err(Failure {
                code: 1,
                message: format!("not verified: {e}"),
                hint,
            })
        }
    }
}

fn init(origin: &str, dir: &Path) -> Outcome {
    let mut seed = Zeroizing::new([0u8; 32]);
    getrandom::fill(seed.as_mut()).map_err(|e| Failure {
        code: 2,
        message: format!("the operating system gave no randomness: {e}"),
        hint: None,
    })?;
    if !note::is_valid_key_name(origin) {
        return Err(Failure::input(
            format!("{origin:?} is not a valid log name"),
            "use a schema-less URL such as ledger.example.com, without spaces or '+'",
        ));
    }
    let store =
        forewarn_store::Store::init(dir, origin, &seed, forewarn_store::StoreConfig::default())
            .map_err(ledger::store_failure)?;
    eprintln!(
        "created a ledger in {} (log key: {}, mode 0600)",
        dir.display(),
        dir.join(forewarn_store::KEY_FILE).display()
    );
    eprintln!(
        "next: make a party key with `forewarn keygen --name you.example --out keys` and register it with `forewarn party register`"
    );
    println!("{}", store.vkey());
    store.close().map_err(ledger::store_failure)
}
