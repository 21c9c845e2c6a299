//! `mimi-ref demo`: three providers on loopback play the six flows of protocol-06 §3 over
//! mutually authenticated HTTPS with real MLS clients, print what crossed the wire as a
//! message-sequence chart and the final room state at every party.

use std::process::ExitCode;
use std::time::Duration;

use mimi_ref::http::delivery::RetryPolicy;
use mimi_ref::policy::examples::{admin_roles, cooperative};
use mimi_ref::provider::node::{Federation, NodeError};
use mimi_ref::sim::user_uri;

/// Arguments of `mimi-ref demo` (none needed).
#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// Upper bound for every step to settle, in seconds.
    #[arg(long, default_value_t = 20)]
    pub step_timeout: u64,
}

#[derive(Debug, thiserror::Error)]
enum DemoError {
    #[error(transparent)]
    Node(#[from] NodeError),
    #[error(transparent)]
    Federation(#[from] mimi_ref::provider::node::FederationError),
    #[error("{0}")]
    Step(String),
    #[error("cannot start the runtime: {0}")]
    Runtime(std::io::Error),
}

fn expect_ok(step: &str, c: &mimi_ref::provider::node::Code) -> Result<(), DemoError> {
    if c.ok() {
        Ok(())
    } else {
        Err(DemoError::Step(format!(
            "{step}: {} {}",
            c.code, c.description
        )))
    }
}

/// Plays the six §3 flows on a fresh federation; returns the disagreements at the end.
async fn play(
    f: &mut Federation,
    bound: Duration,
    chart_from: &mut usize,
) -> Result<String, DemoError> {
    let ordinary = admin_roles::ORDINARY_USER;
    let alice = f.node("a.example")?.add_client("alice", "1", 3)?;
    let bob = f.node("b.example")?.add_client("bob", "1", 3)?;
    let cathy = f.node("c.example")?.add_client("cathy", "1", 3)?;
    f.consent_all()?;

    let mut step = |f: &mut Federation, title: &str| {
        println!("\n== {title}");
        print_chart(f, chart_from);
    };

    // §3.1
    let room = f.node("a.example")?.create_room(
        &alice,
        "clubhouse",
        &cooperative(),
        admin_roles::SUPER_ADMIN,
    )?;
    f.settle(bound).await?;
    step(
        f,
        &format!("§3.1 Alice creates {room} on a.example (local; nothing crosses the wire)"),
    );
    // §3.2
    let c = f
        .node("a.example")?
        .add_user(&alice, &room, &user_uri("b.example", "bob"), ordinary)
        .await?;
    expect_ok("§3.2", &c)?;
    f.settle(bound).await?;
    step(f, "§3.2 Alice adds Bob");
    // §3.3
    let c = f
        .node("b.example")?
        .add_user(&bob, &room, &user_uri("c.example", "cathy"), ordinary)
        .await?;
    expect_ok("§3.3", &c)?;
    f.settle(bound).await?;
    step(f, "§3.3 Bob adds Cathy");
    // §3.4
    let (c, _) = f
        .node("c.example")?
        .send_message(&cathy, &room, b"hello clubhouse")
        .await?;
    expect_ok("§3.4", &c)?;
    f.settle(bound).await?;
    step(f, "§3.4 Cathy sends a message");
    // §3.5
    let c = f.node("b.example")?.leave(&bob, &room).await?;
    expect_ok("§3.5 leave", &c)?;
    f.settle(bound).await?;
    let c = f.node("a.example")?.commit_pending(&alice, &room).await?;
    expect_ok("§3.5 commit", &c)?;
    f.settle(bound).await?;
    step(f, "§3.5 Bob leaves (proposals), Alice commits them");
    // §3.6
    let cathy2 = f.node("c.example")?.add_client("cathy", "2", 1)?;
    let c = f
        .node("c.example")?
        .external_join(&cathy2, &room, ordinary)
        .await?;
    expect_ok("§3.6", &c)?;
    f.settle(bound).await?;
    let (c, _) = f
        .node("c.example")?
        .send_message(&cathy2, &room, b"from my tablet")
        .await?;
    expect_ok("§3.6 message", &c)?;
    f.settle(bound).await?;
    step(
        f,
        "§3.6 Cathy adds a device by external commit, which then sends",
    );
    Ok(room)
}

fn print_chart(f: &Federation, from: &mut usize) {
    let log = f.log.lock().map(|l| l.clone()).unwrap_or_default();
    for r in log.iter().skip(*from) {
        println!(
            "  {:<10} -> {:<10} {:<14} {:<4} {}",
            r.from,
            r.to,
            format!("/{}", r.endpoint.name()),
            r.status,
            r.summary
        );
    }
    *from = log.len();
}

fn demo(args: &DemoArgs) -> Result<bool, DemoError> {
    let dir = std::env::temp_dir().join(format!("mimi-ref-demo-{}", std::process::id()));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(DemoError::Runtime)?;
    let bound = Duration::from_secs(args.step_timeout.max(1));
    let result = rt.block_on(async {
        let retry = RetryPolicy {
            initial: Duration::from_millis(20),
            max: Duration::from_millis(500),
            request_timeout: Duration::from_secs(5),
            ..RetryPolicy::default()
        };
        let mut f = Federation::start(&["a.example", "b.example", "c.example"], &dir, None, retry).await?;
        println!("mimi-ref demo: three providers on loopback, mutual TLS (certificates in {})", dir.display());
        for (d, n) in &f.nodes {
            println!("  {d} at https://{}", n.provider().local_addr());
        }
        println!("\nmessage-sequence chart (one line per HTTP request: from -> to, endpoint, status, fields)");
        let mut from = 0;
        let played = tokio::time::timeout(bound * 10, play(&mut f, bound, &mut from)).await;
        let room = match played {
            Ok(r) => r,
            Err(_) => Err(DemoError::Step("the demo did not finish in time".into())),
        };
        let ok = match room {
            Ok(room) => {
                println!("\n== final room state at every party ({room})");
                let (rows, bad) = f.states(&room);
                for (who, s) in rows {
                    match s {
                        Some(s) => println!(
                            "  {who:<36} epoch {} members [{}] participants [{}] pending {}",
                            s.epoch,
                            s.members.iter().cloned().collect::<Vec<_>>().join(", "),
                            s.participants
                                .iter()
                                .map(|(u, r)| format!("{u}:{r}"))
                                .collect::<Vec<_>>()
                                .join(", "),
                            s.pending_proposals.len()
                        ),
                        None => println!("  {who:<36} (not in the room)"),
                    }
                }
                if bad.is_empty() {
                    println!("\nall parties agree with the hub");
                    Ok(true)
                } else {
                    for b in &bad {
                        println!("DISAGREEMENT: {b}");
                    }
                    Ok(false)
                }
            }
            Err(e) => Err(e),
        };
        f.shutdown().await;
        ok
    });
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// Run `mimi-ref demo`.
pub fn run(args: &DemoArgs) -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).try_init();
    match demo(args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
