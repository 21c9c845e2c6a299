//! `mimi-ref certs`: a development CA and one certificate per provider domain (rcgen),
//! for `mimi-ref serve` and the loopback tests (protocol-06 §4.1 mutual TLS).

use std::path::PathBuf;
use std::process::ExitCode;

use mimi_ref::http::certs;

/// Arguments of `mimi-ref certs`.
#[derive(clap::Args, Debug)]
pub struct CertsArgs {
    /// The folder to write into (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The provider domains, comma-separated (e.g. a.example,b.example,c.example).
    #[arg(long, value_name = "D1,D2,...", value_delimiter = ',', required = true)]
    pub domains: Vec<String>,
    /// The CA's common name.
    #[arg(long, default_value = "mimi-ref development CA")]
    pub ca_name: String,
    /// Overwrite an existing ca.pem in DIR (otherwise refuse, so a running setup is not
    /// replaced by accident).
    #[arg(long)]
    pub force: bool,
}

/// Run `mimi-ref certs`.
pub fn run(args: &CertsArgs) -> ExitCode {
    if certs::ca_path(&args.out).exists() && !args.force {
        eprintln!(
            "error: {} already exists; pass --force to replace the CA and certificates",
            certs::ca_path(&args.out).display()
        );
        return ExitCode::FAILURE;
    }
    let domains: Vec<String> = args
        .domains
        .iter()
        .map(|d| d.trim().to_ascii_lowercase())
        .filter(|d| !d.is_empty())
        .collect();
    match certs::generate(&args.ca_name, &domains).and_then(|p| certs::write(&args.out, &p)) {
        Ok(()) => {
            println!("wrote {}:", args.out.display());
            println!("  ca.pem, ca.key.pem");
            for d in &domains {
                println!("  {d}.pem, {d}.key.pem");
            }
            println!("  README.txt");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
