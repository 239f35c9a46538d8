//! `govcred`: keys, issuing and verifying government verifiable credentials.
//!
//! Exit codes: 0 success / valid credential, 1 invalid credential, 2 usage error or
//! unreadable input.

/// mimalloc rather than the system allocator: see its entry in Cargo.toml.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod audit;
mod batch;
mod bench;
mod demo;
mod files;
mod http;
mod iaca;
mod issue;
mod keys;
mod ledger;
mod load;
mod negative;
mod offer;
mod pkcs11;
mod present;
mod publish;
mod rotate;
mod serve;
mod status;
mod trust;
mod vectors;
mod verify;
mod wallet;
mod wallet_present;
mod wallet_receive;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// A failure that ends the command, with its exit code.
#[derive(Debug)]
pub struct CliError {
    code: u8,
    message: String,
}

impl CliError {
    /// Usage error or unreadable input (exit 2).
    pub fn input(message: impl Into<String>) -> Self {
        CliError {
            code: 2,
            message: message.into(),
        }
    }
}

impl From<govcred::Error> for CliError {
    fn from(e: govcred::Error) -> Self {
        CliError::input(format!("{} ({})", e, e.code()))
    }
}

/// Result of a command: the exit code to return.
pub type CliResult = Result<ExitCode, CliError>;

#[derive(Parser)]
#[command(
    name = "govcred",
    version,
    about = "Issue and verify government verifiable credentials (W3C VC 2.0 JWT, Data Integrity, DIDs)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a signing key (written as a private JWK, mode 0600).
    Keygen(keys::KeygenArgs),
    /// Write did:web documents (did.json, jwks.json) for one or more keys.
    DidWeb(keys::DidWebArgs),
    /// Issue a credential.
    #[command(subcommand)]
    Issue(issue::IssueCommand),
    /// Present a credential (holder side).
    #[command(subcommand)]
    Present(present::PresentCommand),
    /// Status lists: create, allocate, revoke/suspend/reinstate, publish, check.
    #[command(subcommand)]
    Status(status::StatusCommand),
    /// Verify a credential offline (format detected automatically).
    Verify(verify::VerifyArgs),
    /// Run the main job on an embedded default: issue, verify offline, show the report.
    Demo(demo::DemoArgs),
    /// Measure sign/verify rates per format against the raw signature rate.
    Bench(bench::BenchArgs),
    /// Load-test a running OpenID4VCI issuer: parallel wallets redeem offer links
    /// (spread over --instance URLs); prints throughput and p50/p99 latency.
    Load(load::LoadArgs),
    /// Regenerate the project's published test vectors.
    Vectors(vectors::VectorsArgs),
    /// ISO 18013-5 PKI: IACA roots and Document Signer certificates.
    #[command(subcommand)]
    Iaca(iaca::IacaCommand),
    /// Run HTTP services: the OpenID4VCI issuer (--config; --init DIR writes one) or the
    /// central Status List Service (--status-service).
    Serve(serve::ServeArgs),
    /// OpenID4VCI credential offers.
    #[command(subcommand)]
    Offer(offer::OfferCommand),
    /// The wallet: receive over OpenID4VCI, and the encrypted store (add, list, show, delete, wipe).
    #[command(subcommand)]
    Wallet(wallet::WalletCommand),
    /// Trust bundles for offline verifiers: build (sign) and show.
    #[command(subcommand)]
    Trust(trust::TrustCommand),
    /// Issue one credential per row of a CSV/JSONL file (streaming, parallel, resumable, shardable).
    IssueBatch(batch::BatchArgs),
    /// Issuance ledgers: merge shard ledgers.
    #[command(subcommand)]
    Ledger(ledger::LedgerCommand),
    /// Key rotation of a did:web site: rotate (publish ahead, activate), retire, list.
    #[command(subcommand)]
    Keys(rotate::KeysCommand),
    /// The tamper-evident audit log.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// The staff console of `govcred serve --console`: accounts.
    #[command(subcommand)]
    Console(serve::console::ConsoleCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Keygen(a) => keys::keygen(a),
        Command::DidWeb(a) => keys::did_web(a),
        Command::Issue(c) => issue::run(c),
        Command::Present(c) => present::run(c),
        Command::Status(c) => status::run(c),
        Command::Verify(a) => verify::run(a),
        Command::Demo(a) => demo::run(a),
        Command::Bench(a) => bench::run(a),
        Command::Load(a) => load::run(a),
        Command::Vectors(a) => vectors::run(a),
        Command::Iaca(c) => iaca::run(c),
        Command::Serve(a) => serve::run(a),
        Command::Wallet(c) => wallet::run(c),
        Command::Trust(c) => trust::run(c),
        Command::Offer(c) => offer::run(c),
        Command::IssueBatch(a) => batch::run(a),
        Command::Ledger(c) => ledger::run(c),
        Command::Audit(c) => audit::run(c),
        Command::Console(c) => serve::console::run(c),
        Command::Keys(c) => rotate::run(c),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("govcred: {}", e.message);
            ExitCode::from(e.code)
        }
    }
}
