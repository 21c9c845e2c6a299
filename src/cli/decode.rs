//! `mimi-ref decode`: print any wire struct, content message or identifier as JSON.

use std::path::PathBuf;
use std::process::ExitCode;

use mimi_ref::{content, uri::MimiUri, wire};

/// Arguments of `mimi-ref decode`.
#[derive(clap::Args, Debug)]
#[command(group = clap::ArgGroup::new("input").args(["hex", "file"]))]
pub struct DecodeArgs {
    /// The type to decode: a wire struct name of protocol -06 (see --list-types),
    /// `content` for a CBOR content message, or `uri` for a `mimi://` identifier.
    #[arg(
        long = "type",
        value_name = "NAME",
        required_unless_present = "list_types"
    )]
    pub type_name: Option<String>,
    /// The input as hexadecimal (whitespace is ignored).
    #[arg(long, value_name = "HEX")]
    pub hex: Option<String>,
    /// A file holding the raw input bytes.
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// With `--type content`: the sender's URI, to derive the message id.
    #[arg(long, requires = "room")]
    pub sender: Option<String>,
    /// With `--type content`: the room's URI, to derive the message id.
    #[arg(long, requires = "sender")]
    pub room: Option<String>,
    /// List the names `--type` accepts, with the draft section of each.
    #[arg(long)]
    pub list_types: bool,
}

/// Why a decode failed; printed on stderr with a non-zero exit.
#[derive(Debug, thiserror::Error)]
enum DecodeCliError {
    #[error("give the input as --hex HEX or as a FILE")]
    NoInput,
    #[error("--hex: {0}")]
    Hex(#[from] hex::FromHexError),
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("unknown type {0:?}; `mimi-ref decode --list-types` lists the names")]
    UnknownType(String),
    #[error("{0}")]
    Wire(#[from] wire::WireError),
    #[error("content: {0}")]
    Content(#[from] content::ContentError),
    #[error("uri: {0}")]
    Uri(#[from] mimi_ref::uri::UriError),
    #[error("--sender/--room: {0}")]
    IdUri(mimi_ref::uri::UriError),
    #[error("--sender/--room are only meaningful with --type content")]
    SenderWithoutContent,
}

/// Run `mimi-ref decode`.
pub fn run(args: &DecodeArgs) -> ExitCode {
    if args.list_types {
        // A closed pipe (`| head`) is not an error worth a message.
        let _ = list_types();
        return ExitCode::SUCCESS;
    }
    match decode(args) {
        Ok(v) => {
            match serde_json::to_string_pretty(&v) {
                Ok(s) => {
                    use std::io::Write;
                    let _ = writeln!(std::io::stdout().lock(), "{s}");
                }
                Err(e) => {
                    eprintln!("error: cannot print JSON: {e}");
                    return ExitCode::FAILURE;
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn list_types() -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{:<32} {:<18} summary", "type", "section")?;
    writeln!(
        out,
        "{:<32} {:<18} a MIMI content message (CBOR)",
        "content", "content-08"
    )?;
    writeln!(
        out,
        "{:<32} {:<18} a mimi:// identifier (UTF-8 bytes)",
        "uri", "protocol-06 §3"
    )?;
    for t in wire::registry() {
        writeln!(out, "{:<32} {:<18} {}", t.name, t.section, t.summary)?;
    }
    Ok(())
}

fn read_input(args: &DecodeArgs) -> Result<Vec<u8>, DecodeCliError> {
    if let Some(h) = &args.hex {
        let cleaned: String = h.chars().filter(|c| !c.is_whitespace()).collect();
        return Ok(hex::decode(cleaned)?);
    }
    if let Some(path) = &args.file {
        return std::fs::read(path).map_err(|source| DecodeCliError::Read {
            path: path.clone(),
            source,
        });
    }
    Err(DecodeCliError::NoInput)
}

fn decode(args: &DecodeArgs) -> Result<serde_json::Value, DecodeCliError> {
    let name = args.type_name.as_deref().unwrap_or_default();
    let is_content = name.eq_ignore_ascii_case("content");
    if args.sender.is_some() && !is_content {
        return Err(DecodeCliError::SenderWithoutContent);
    }
    // Resolve the type before reading input so a typo is reported first.
    let wire_type = if is_content || name.eq_ignore_ascii_case("uri") {
        None
    } else {
        Some(wire::lookup(name).ok_or_else(|| DecodeCliError::UnknownType(name.to_string()))?)
    };
    let bytes = read_input(args)?;
    if let Some(t) = wire_type {
        return Ok(t.decode_json(&bytes)?);
    }
    if is_content {
        let json = content::decode_to_json(&bytes)?;
        let mut out = serde_json::Map::new();
        out.insert("message".into(), json);
        if let (Some(sender), Some(room)) = (&args.sender, &args.room) {
            // The id hashes the URIs as text: use their normal form (see `uri`).
            let sender = MimiUri::parse(sender).map_err(DecodeCliError::IdUri)?;
            let room = MimiUri::parse(room).map_err(DecodeCliError::IdUri)?;
            let (sender, room) = (sender.to_string(), room.to_string());
            let id = content::message_id_of_bytes(&sender, &room, &bytes)?;
            out.insert("sender".into(), sender.into());
            out.insert("room".into(), room.into());
            out.insert("messageId".into(), hex::encode(id.as_bytes()).into());
        }
        return Ok(out.into());
    }
    let uri = MimiUri::from_bytes(&bytes)?;
    Ok(serde_json::json!({
        "uri": uri.to_string(),
        "kind": uri.kind(),
        "provider": uri.provider(),
        "segments": uri.segments(),
    }))
}
