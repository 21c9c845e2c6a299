//! stateright Explorer on a loopback address.

use crate::cli::CliError;
use crate::config::Config;
use crate::model::MimiModel;
use stateright::Model;
use std::net::{SocketAddr, TcpListener};

/// Validates `addr` (must parse and be loopback, and be free), then serves the Explorer.
/// Blocks for as long as the server runs.
pub fn serve(cfg: Config, addr: &str) -> Result<(), CliError> {
    let sa: SocketAddr = addr
        .parse()
        .map_err(|e| CliError::Addr(addr.to_string(), format!("not an IP:port address ({e})")))?;
    if !sa.ip().is_loopback() {
        return Err(CliError::Addr(
            addr.to_string(),
            "only loopback addresses are served".into(),
        ));
    }
    // probe that the port is free so that a bind failure is an error, not a panic
    drop(
        TcpListener::bind(sa)
            .map_err(|e| CliError::Addr(addr.to_string(), format!("cannot bind ({e})")))?,
    );
    eprintln!(
        "serving the Explorer for `{}` on http://{sa}/",
        cfg.raw.name
    );
    let model = MimiModel::new(cfg);
    let _ = model.checker().serve(sa);
    Ok(())
}
