//! The `rolestack` command: `serve` runs the server; every other subcommand is a client of the
//! server's API (signed like any SDK call) or reads the local data directory.

mod client;
mod data_dir;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};
use rolestack_core::bootstrap::ensure_account;
use rolestack_core::clock::Clock;
use rolestack_core::service::Rolestack;
use rolestack_store_sqlite::SqliteStore;

use data_dir::DataDir;

#[derive(Parser)]
#[command(name = "rolestack", version, about = "Self-hosted, wire-compatible Alibaba Cloud instance RAM roles")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server: RAM (and the other RPC products) on one HTTP listener, state in SQLite.
    Serve {
        /// Where state lives: the SQLite database, the server key and the root credentials.
        #[arg(long, env = "ROLESTACK_DATA_DIR", default_value_os_t = data_dir::default_path())]
        data_dir: PathBuf,
        /// Address of the API listener.
        #[arg(long, env = "ROLESTACK_LISTEN", default_value = "127.0.0.1:8960")]
        listen: SocketAddr,
        /// The server key file (AES-256, seals AccessKey secrets). Defaults to <data-dir>/master.key;
        /// keep it apart from the database to keep a database copy free of secrets.
        #[arg(long, env = "ROLESTACK_KEY_FILE")]
        key_file: Option<PathBuf>,
    },
    /// Print the account root's AccessKey from the data directory.
    Credentials {
        #[arg(long, env = "ROLESTACK_DATA_DIR", default_value_os_t = data_dir::default_path())]
        data_dir: PathBuf,
        #[arg(long, value_enum, default_value_t = CredentialFormat::Env)]
        format: CredentialFormat,
    },
    /// Call any RPC API action, signed with signature V1 like the official SDKs:
    /// `rolestack api ram CreateRole RoleName=r AssumeRolePolicyDocument=@trust.json`.
    Api {
        /// Product: ram, sts or ecs.
        product: String,
        /// Action name, e.g. ListRoles.
        action: String,
        /// Parameters as Name=Value; Name=@file reads the value from a file.
        params: Vec<String>,
        /// The server's API endpoint.
        #[arg(long, env = "ROLESTACK_ENDPOINT", default_value = "http://127.0.0.1:8960")]
        endpoint: String,
        #[arg(long, env = "ALIBABA_CLOUD_ACCESS_KEY_ID")]
        access_key_id: String,
        #[arg(long, env = "ALIBABA_CLOUD_ACCESS_KEY_SECRET", hide_env_values = true)]
        access_key_secret: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum CredentialFormat {
    Env,
    Json,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { data_dir, listen, key_file } => serve(data_dir, listen, key_file),
        Command::Credentials { data_dir, format } => {
            let creds = DataDir::new(data_dir).read_root_credentials()?;
            match format {
                CredentialFormat::Json => println!("{}", serde_json::to_string_pretty(&creds)?),
                CredentialFormat::Env => {
                    println!("ALIBABA_CLOUD_ACCESS_KEY_ID={}", creds.access_key_id);
                    println!("ALIBABA_CLOUD_ACCESS_KEY_SECRET={}", creds.access_key_secret);
                }
            }
            Ok(())
        }
        Command::Api { product, action, params, endpoint, access_key_id, access_key_secret } => {
            let creds = client::Credentials { access_key_id, access_key_secret };
            let (ok, body) = client::call(&endpoint, &creds, &product, &action, &params)?;
            println!("{body}");
            if !ok {
                std::process::exit(1);
            }
            Ok(())
        }
    }
}

fn serve(data_dir: PathBuf, listen: SocketAddr, key_file: Option<PathBuf>) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("ROLESTACK_LOG").unwrap_or_else(|_| "info".into()))
        .init();
    let dir = DataDir::new(data_dir);
    dir.create()?;
    let key = dir.server_key(key_file.as_deref())?;
    let store = Arc::new(SqliteStore::open(&dir.database()).context("opening the SQLite database")?);
    let clock = Clock::default();
    let (account, created) = ensure_account(store.as_ref(), &key, &clock)?;
    if let Some(creds) = created {
        dir.write_root_credentials(&creds)?;
        println!("Created account {} with a root AccessKey (shown once; also saved in {}):", creds.account_id, dir.credentials_file().display());
        println!("  ALIBABA_CLOUD_ACCESS_KEY_ID={}", creds.access_key_id);
        println!("  ALIBABA_CLOUD_ACCESS_KEY_SECRET={}", creds.access_key_secret);
    }
    let state = Rolestack::new(store, key, clock);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("binding {listen}"))?;
        tracing::info!(account, listen = %listener.local_addr()?, data_dir = %dir.path().display(), "rolestack serving");
        rolestack_server::serve(listener, state, shutdown_signal()).await?;
        tracing::info!("rolestack stopped");
        Ok(())
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
