//! The `rolestack` command: `serve` runs the server; every other subcommand is a client of the
//! server's API (signed like any SDK call) or reads the local data directory.

mod client;
mod data_dir;
mod environment;
mod events;
mod instance;
mod nonce_log;
mod supervise;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};
use rolestack_core::audit::{AuditTrail, Retention};
use rolestack_core::bootstrap::ensure_account;
use rolestack_core::clock::Clock;
use rolestack_core::replay::NonceGuard;
use rolestack_core::service::Rolestack;
use rolestack_core::store::Store;
use rolestack_server::connections::{connections_for_fd_limit, Connections, Limits};
use rolestack_server::network::{HostNetwork, NamespaceMode};
use rolestack_server::tls::LabCa;
use rolestack_store_postgres::PostgresStore;
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
        /// Address of the same API over HTTPS, with certificates of the local CA
        /// (<data-dir>/ca.pem); `off` to serve no HTTPS.
        #[arg(long, env = "ROLESTACK_TLS_LISTEN", default_value = "127.0.0.1:8961")]
        tls_listen: TlsListen,
        /// The server key file (AES-256, seals AccessKey secrets). Defaults to <data-dir>/master.key;
        /// keep it apart from the database to keep a database copy free of secrets.
        #[arg(long, env = "ROLESTACK_KEY_FILE")]
        key_file: Option<PathBuf>,
        /// Let `rolestack clock advance` move the server's clock (token expiry, credential rotation).
        #[arg(long, env = "ROLESTACK_FAKE_CLOCK")]
        fake_clock: bool,
        /// Give each instance a network namespace with 100.100.100.200 (needs root and `ip`).
        #[arg(long, env = "ROLESTACK_INSTANCE_NAMESPACES", value_enum, default_value_t = Namespaces::Auto)]
        instance_namespaces: Namespaces,
        /// Keep state in PostgreSQL (postgres://user:password@host:port/db) instead of SQLite in the
        /// data dir, which still holds the server key, the root credentials and OSS object bodies.
        #[arg(long, env = "ROLESTACK_DATABASE_URL", hide_env_values = true)]
        database_url: Option<String>,
        /// This node's name among the nodes sharing one PostgreSQL (unique per node, kept across
        /// restarts; needs --database-url): instances created through it live on its host and
        /// other nodes send `instance exec` there (docs/scale-out.md).
        #[arg(long, env = "ROLESTACK_NODE_NAME", requires = "database_url")]
        node_name: Option<String>,
        /// The address other nodes and clients reach this node's API at (default: --listen).
        #[arg(long, env = "ROLESTACK_ADVERTISE")]
        advertise: Option<String>,
        /// Where OSS object bodies live: `s3://BUCKET[/PREFIX]?endpoint=http://HOST:PORT&region=REGION`
        /// for any S3-compatible store (keys from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY), or
        /// `file:///PATH` for a directory. Default: <data-dir>/blobs.
        #[arg(long, env = "ROLESTACK_BLOB_URL")]
        blob_url: Option<String>,
        #[command(flatten)]
        connections: ConnectionArgs,
        /// How long ActionTrail events are kept (`LookupEvents`, `rolestack events`).
        #[arg(long, env = "ROLESTACK_EVENT_RETENTION", default_value = "7d")]
        event_retention: humantime::Duration,
        /// Most ActionTrail events kept; the oldest go first.
        #[arg(long, env = "ROLESTACK_EVENT_MAX_COUNT", default_value_t = 1_000_000)]
        event_max_count: u64,
        /// Log lines as text (coloured on a terminal) or as JSON objects.
        #[arg(long, env = "ROLESTACK_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
        log_format: LogFormat,
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
        /// Product: ram, sts, ecs, vpc, ims, actiontrail or rolestack (the admin API).
        product: String,
        /// Action name, e.g. ListRoles.
        action: String,
        /// Parameters as Name=Value; Name=@file reads the value from a file.
        params: Vec<String>,
        #[command(flatten)]
        client: client::ClientArgs,
    },
    /// Run a command "as a workstation": Alibaba Cloud's service names (sts.aliyuncs.com,
    /// oss-cn-hangzhou.aliyuncs.com, ...) reach rolestack over HTTP and HTTPS with its CA trusted,
    /// and ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET are yours (or the account root's from the data dir).
    /// As root in a network namespace; otherwise through HTTP(S)_PROXY. Says which on stderr.
    Exec {
        /// Use the unprivileged proxy even when a namespace is available.
        #[arg(long)]
        proxy: bool,
        #[command(flatten)]
        client: client::ClientArgs,
        #[arg(last = true, required = true)]
        command: Vec<String>,
    },
    /// Instances: run code inside one, read its metadata credentials.
    Instance {
        #[command(subcommand)]
        command: InstanceCommand,
    },
    /// The server's clock (moving it needs `serve --fake-clock`).
    Clock {
        #[command(subcommand)]
        command: ClockCommand,
    },
    /// RAM roles: end every live session of a role.
    Role {
        #[command(subcommand)]
        command: RoleCommand,
    },
    /// Policies: simulate what a user, group or role may do, and why.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// ActionTrail events (LookupEvents), newest first, one JSON object per line; `--follow`
    /// keeps printing new ones as they happen (oldest first). At most two of the filters, as
    /// LookupEvents takes at most two conditions.
    Events {
        /// Only events of this action (`CreateRole`, `PutObject`, ...).
        #[arg(long)]
        event_name: Option<String>,
        /// Only events of this RAM user (or `<role>:<session>` for role sessions).
        #[arg(long)]
        user: Option<String>,
        /// Only events that name this resource (a role name, an instance id, `bucket/key`, ...).
        #[arg(long)]
        resource_name: Option<String>,
        /// Only events of this service (`Ram`, `Sts`, `Ecs`, `Vpc`, `Oss`, ...).
        #[arg(long)]
        service: Option<String>,
        /// At most this many events (without `--follow`).
        #[arg(long, default_value_t = 50)]
        max: usize,
        #[arg(long)]
        follow: bool,
        #[command(flatten)]
        client: client::ClientArgs,
    },
    /// The server's local OIDC issuer: mint ID tokens for AssumeRoleWithOIDC (a simulated pod).
    Oidc {
        #[command(subcommand)]
        command: OidcCommand,
    },
}

#[derive(Subcommand)]
enum OidcCommand {
    /// Print an ID token from the local issuer (or write it to --out, as a pod's token file).
    Token {
        /// The token's subject (`sub`), e.g. system:serviceaccount:default:app.
        #[arg(long)]
        sub: String,
        /// The audience (`aud`), e.g. sts.aliyuncs.com; repeat for several.
        #[arg(long, required = true)]
        aud: Vec<String>,
        /// How long the token is valid, in seconds.
        #[arg(long, default_value_t = 3600)]
        ttl: u64,
        /// Write the token to this file instead of printing it.
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        client: client::ClientArgs,
    },
    /// Print the local issuer's URL, key id, discovery document and key set.
    Issuer {
        #[command(flatten)]
        client: client::ClientArgs,
    },
}

/// Bounds on client connections (see rolestack_server::connections).
#[derive(clap::Args)]
struct ConnectionArgs {
    /// Seconds a client has to send a request's headers.
    #[arg(long, env = "ROLESTACK_HEADER_TIMEOUT_SECS", default_value_t = 20)]
    header_timeout_secs: u64,
    /// Seconds a connection may stay with no byte moving either way before it is closed.
    #[arg(long, env = "ROLESTACK_IDLE_TIMEOUT_SECS", default_value_t = 60)]
    idle_timeout_secs: u64,
    /// Most connections served at once (default: what the open-file limit allows, up to 65536).
    #[arg(long, env = "ROLESTACK_MAX_CONNECTIONS")]
    max_connections: Option<usize>,
    /// Seconds requests in flight get to finish after SIGTERM/SIGINT (the listeners close at
    /// once); connections still open then are closed.
    #[arg(long, env = "ROLESTACK_DRAIN_TIMEOUT_SECS", default_value_t = 10)]
    drain_timeout_secs: u64,
}

#[derive(Subcommand)]
enum InstanceCommand {
    /// Run a command "inside" an instance: in its network namespace, where 100.100.100.200 is the
    /// instance's metadata service (or, with --proxy or without root, through its loopback proxy via
    /// HTTP_PROXY). ROLESTACK_ENDPOINT is set to the API as seen from inside. The instance must be
    /// Running (`rolestack instance start`); stopping it ends the command and what it started, as
    /// powering a machine off does (through the proxy, this process stays as the command's parent
    /// to do that).
    Exec {
        instance_id: String,
        /// Use the unprivileged loopback proxy even when a namespace is available.
        #[arg(long)]
        proxy: bool,
        #[command(flatten)]
        client: client::ClientArgs,
        #[arg(last = true, required = true)]
        command: Vec<String>,
    },
    /// Start a stopped instance (ECS StartInstance): programs may run in it again.
    Start {
        instance_id: String,
        #[command(flatten)]
        client: client::ClientArgs,
    },
    /// Stop a running instance (ECS StopInstance): the programs running inside it end (SIGTERM, then
    /// SIGKILL after 5 s; at once with --force) and its metadata service answers nothing.
    Stop {
        instance_id: String,
        /// Pull the power (ForceStop=true): kill the programs at once.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        client: client::ClientArgs,
    },
    /// Print the credentials the metadata service currently serves the instance.
    Credentials {
        instance_id: String,
        #[command(flatten)]
        client: client::ClientArgs,
    },
    /// Create a VPC instance in a vSwitch (ECS CreateInstance), optionally with a RAM role and user
    /// data, and start it.
    Create {
        #[arg(long)]
        vswitch_id: String,
        #[arg(long)]
        ram_role: Option<String>,
        /// A file whose bytes become the instance's user data (`/latest/user-data` inside it).
        #[arg(long)]
        user_data: Option<PathBuf>,
        #[arg(long, default_value = "centos_7_03_64_40G_alibase_20170503.vhd")]
        image_id: String,
        #[arg(long, default_value = "ecs.xn4.small")]
        instance_type: String,
        #[arg(long, default_value = "cn-hangzhou")]
        region: String,
        #[command(flatten)]
        client: client::ClientArgs,
    },
    /// List instances with their network and RAM role (ECS DescribeInstances + DescribeInstanceRamRole).
    List {
        #[arg(long, default_value = "cn-hangzhou")]
        region: String,
        #[command(flatten)]
        client: client::ClientArgs,
    },
    /// Attach a RAM role to an instance (ECS AttachInstanceRamRole).
    AttachRole {
        instance_id: String,
        role_name: String,
        #[arg(long, default_value = "cn-hangzhou")]
        region: String,
        #[command(flatten)]
        client: client::ClientArgs,
    },
    /// Break the instance's metadata service on purpose (docs/faults.md): one fault per call,
    /// lasting until --for / --count runs out (or --clear); or --clear every fault.
    #[command(group(clap::ArgGroup::new("fault").required(true).args([
        "delay", "status", "reset", "timeout", "throttle", "stale_credentials", "expire_credentials", "clear"
    ])))]
    Fault {
        instance_id: String,
        /// Only requests whose path matches this wildcard (`*`, `?`), e.g. `/latest/meta-data/ram/*`.
        #[arg(long)]
        path: Option<String>,
        /// Answer after waiting this long, e.g. `2s`.
        #[arg(long)]
        delay: Option<humantime::Duration>,
        /// Answer with this HTTP status, e.g. 500.
        #[arg(long)]
        status: Option<u16>,
        /// Close the connection without an answer.
        #[arg(long)]
        reset: bool,
        /// Never answer (hold the request until the fault ends, at most 2 minutes).
        #[arg(long)]
        timeout: bool,
        /// Let N requests a second through, answer the others 429, e.g. `5/s`.
        #[arg(long, value_name = "N/s")]
        throttle: Option<String>,
        /// Serve the credential document with its Expiration already past.
        #[arg(long)]
        stale_credentials: bool,
        /// Expire the served credentials now (STS and OSS refuse them) and keep serving them.
        #[arg(long)]
        expire_credentials: bool,
        /// End every fault of the instance.
        #[arg(long, conflicts_with_all = ["path", "for_", "count"])]
        clear: bool,
        /// The fault ends after this long (server clock), e.g. `30s`.
        #[arg(long = "for", value_name = "DURATION")]
        for_: Option<humantime::Duration>,
        /// The fault ends after applying to this many requests.
        #[arg(long)]
        count: Option<u64>,
        #[command(flatten)]
        client: client::ClientArgs,
    },
    /// The instance's faults (active and ended).
    Faults {
        instance_id: String,
        #[command(flatten)]
        client: client::ClientArgs,
    },
    /// What was injected into the instance's metadata service and when (newest first).
    Events {
        instance_id: String,
        #[command(flatten)]
        client: client::ClientArgs,
    },
    /// Issue the instance a new set of credentials now (the old one stays valid until it expires).
    RotateCredentials {
        instance_id: String,
        #[command(flatten)]
        client: client::ClientArgs,
    },
    /// Expire the instance's credentials now (STS and OSS refuse them; the next read gets a new set).
    ExpireCredentials {
        instance_id: String,
        #[command(flatten)]
        client: client::ClientArgs,
    },
    /// Detach the RAM role of an instance (ECS DetachInstanceRamRole).
    DetachRole {
        instance_id: String,
        #[arg(long, default_value = "cn-hangzhou")]
        region: String,
        #[command(flatten)]
        client: client::ClientArgs,
    },
}

#[derive(Subcommand)]
enum ClockCommand {
    Show {
        #[command(flatten)]
        client: client::ClientArgs,
    },
    /// Move the clock forward, e.g. `5h40m`.
    Advance {
        duration: humantime::Duration,
        #[command(flatten)]
        client: client::ClientArgs,
    },
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Decide actions on a resource for a user, a group or a role, with the same engine and the
    /// same policies as a real call; prints one JSON object per action (Decision,
    /// MatchedStatements with each condition's outcome). `--assume-role R --principal P` checks a
    /// role's trust policy instead.
    Simulate {
        #[arg(long, group = "subject")]
        user: Option<String>,
        #[arg(long, group = "subject")]
        role: Option<String>,
        #[arg(long, group = "subject")]
        group: Option<String>,
        /// An action such as `oss:GetObject` (repeat for several).
        #[arg(long = "action")]
        actions: Vec<String>,
        /// The resource ARN (default `*`).
        #[arg(long)]
        resource: Option<String>,
        /// A request condition value, `key=value` (repeat; e.g. `acs:SourceIp=10.1.2.3`).
        #[arg(long = "context")]
        contexts: Vec<String>,
        /// A draft policy document to add to the subject's policies.
        #[arg(long)]
        policy_file: Option<PathBuf>,
        /// Check this role's trust policy against `--principal` instead.
        #[arg(long, group = "subject", requires = "principal")]
        assume_role: Option<String>,
        /// The principal for `--assume-role`: a RAM ARN, an account id or a service name.
        #[arg(long)]
        principal: Option<String>,
        #[command(flatten)]
        client: client::ClientArgs,
    },
}

#[derive(Subcommand)]
enum RoleCommand {
    /// Revoke every live session (STS and instance credentials) of a role at once.
    RevokeSessions {
        role_name: String,
        #[command(flatten)]
        client: client::ClientArgs,
    },
}

/// `--tls-listen`: an address, or `off`.
#[derive(Clone, Copy)]
enum TlsListen {
    Off,
    At(SocketAddr),
}

impl std::str::FromStr for TlsListen {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "off" | "none" | "" => Ok(TlsListen::Off),
            _ => s.parse().map(TlsListen::At).map_err(|e| format!("{s:?} is neither an address (host:port) nor `off`: {e}")),
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum Namespaces {
    Auto,
    On,
    Off,
}

#[derive(Clone, Copy, ValueEnum)]
enum CredentialFormat {
    Env,
    Json,
}

fn main() {
    // Two malloc arenas (per core, not per thread): the blocking threads' allocations then reuse
    // the same memory instead of each keeping its own heap.
    // SAFETY: called before any other thread exists; mallopt only changes allocator settings.
    unsafe { libc::mallopt(libc::M_ARENA_MAX, 2) };
    if let Err(e) = run(Cli::parse()) {
        // One line: what failed and why (the chain of causes), not a backtrace.
        eprintln!("rolestack: error: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve {
            data_dir,
            listen,
            tls_listen,
            key_file,
            fake_clock,
            instance_namespaces,
            database_url,
            node_name,
            advertise,
            blob_url,
            connections,
            event_retention,
            event_max_count,
            log_format,
        } => serve(ServeArgs {
            log_format,
            data_dir,
            listen,
            tls_listen,
            key_file,
            fake_clock,
            namespaces: instance_namespaces,
            database_url,
            node_name,
            advertise,
            blob_url,
            connections,
            retention: Retention { max_age: event_retention.into(), max_events: event_max_count },
        }),
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
        Command::Api { product, action, params, client } => {
            let (ok, body) = client.call(&product, &action, &params)?;
            println!("{body}");
            if !ok {
                std::process::exit(1);
            }
            Ok(())
        }
        Command::Exec { proxy, client, command } => instance::exec_workstation(&client, proxy, &command),
        Command::Instance { command: InstanceCommand::Exec { instance_id, proxy, client, command } } => {
            instance::exec(&client, &instance_id, proxy, &command)
        }
        Command::Instance {
            command:
                InstanceCommand::Fault {
                    instance_id,
                    path,
                    delay,
                    status,
                    reset,
                    timeout,
                    throttle,
                    stale_credentials,
                    expire_credentials: _,
                    clear,
                    for_,
                    count,
                    client,
                },
        } => {
            let id = format!("InstanceId={instance_id}");
            if clear {
                return print_json(client.call_ok("rolestack", "ClearInstanceFaults", &[id])?);
            }
            let fault = match (delay, status, throttle) {
                (Some(d), _, _) => instance::FaultArg::Delay(d.into()),
                (_, Some(code), _) => instance::FaultArg::Status(code),
                (_, _, Some(rate)) => instance::FaultArg::Throttle(rate),
                _ if reset => instance::FaultArg::Plain("Reset"),
                _ if timeout => instance::FaultArg::Plain("Timeout"),
                _ if stale_credentials => instance::FaultArg::Plain("StaleCredentials"),
                _ => instance::FaultArg::Plain("ExpireCredentials"),
            };
            let mut params = vec![id];
            params.extend(instance::fault_params(&fault, path.as_deref(), for_.map(Into::into), count)?);
            print_json(client.call_ok("rolestack", "InjectInstanceFault", &params)?)
        }
        Command::Instance { command: InstanceCommand::Faults { instance_id, client } } => {
            print_json(client.call_ok("rolestack", "DescribeInstanceFaults", &[format!("InstanceId={instance_id}")])?)
        }
        Command::Instance { command: InstanceCommand::Events { instance_id, client } } => {
            print_json(client.call_ok("rolestack", "ListInstanceEvents", &[format!("InstanceId={instance_id}")])?)
        }
        Command::Instance { command: InstanceCommand::RotateCredentials { instance_id, client } } => {
            print_json(client.call_ok("rolestack", "RotateInstanceCredentials", &[format!("InstanceId={instance_id}")])?)
        }
        Command::Instance { command: InstanceCommand::ExpireCredentials { instance_id, client } } => {
            print_json(client.call_ok("rolestack", "ExpireInstanceCredentials", &[format!("InstanceId={instance_id}")])?)
        }
        Command::Instance { command: InstanceCommand::Start { instance_id, client } } => {
            print_json(client.call_ok("ecs", "StartInstance", &[format!("InstanceId={instance_id}")])?)
        }
        Command::Instance { command: InstanceCommand::Stop { instance_id, force, client } } => {
            print_json(client.call_ok("ecs", "StopInstance", &[format!("InstanceId={instance_id}"), format!("ForceStop={force}")])?)
        }
        Command::Instance { command: InstanceCommand::Credentials { instance_id, client } } => {
            print_json(client.call_ok("rolestack", "DescribeInstanceCredentials", &[format!("InstanceId={instance_id}")])?)
        }
        Command::Instance {
            command: InstanceCommand::Create { vswitch_id, ram_role, user_data, image_id, instance_type, region, client },
        } => {
            let mut args = vec![
                format!("RegionId={region}"),
                format!("VSwitchId={vswitch_id}"),
                format!("ImageId={image_id}"),
                format!("InstanceType={instance_type}"),
            ];
            args.extend(ram_role.map(|r| format!("RamRoleName={r}")));
            if let Some(path) = user_data {
                use base64::Engine as _;
                let raw = std::fs::read(&path).with_context(|| format!("reading the user data in {}", path.display()))?;
                args.push(format!("UserData={}", base64::engine::general_purpose::STANDARD.encode(raw)));
            }
            let created = client.call_ok("ecs", "CreateInstance", &args)?;
            let id = created["InstanceId"].as_str().unwrap_or_default().to_string();
            client.call_ok("ecs", "StartInstance", &[format!("InstanceId={id}")])?;
            println!("{id}");
            Ok(())
        }
        Command::Instance { command: InstanceCommand::List { region, client } } => instance::list(&client, &region),
        Command::Instance { command: InstanceCommand::AttachRole { instance_id, role_name, region, client } } => {
            print_json(client.call_ok(
                "ecs",
                "AttachInstanceRamRole",
                &[format!("RegionId={region}"), format!("InstanceIds=[\"{instance_id}\"]"), format!("RamRoleName={role_name}")],
            )?)
        }
        Command::Instance { command: InstanceCommand::DetachRole { instance_id, region, client } } => print_json(client.call_ok(
            "ecs",
            "DetachInstanceRamRole",
            &[format!("RegionId={region}"), format!("InstanceIds=[\"{instance_id}\"]")],
        )?),
        Command::Clock { command: ClockCommand::Show { client } } => print_json(client.call_ok("rolestack", "DescribeClock", &[])?),
        Command::Clock { command: ClockCommand::Advance { duration, client } } => {
            let seconds = std::time::Duration::from(duration).as_secs();
            print_json(client.call_ok("rolestack", "AdvanceClock", &[format!("Seconds={seconds}")])?)
        }
        Command::Policy {
            command: PolicyCommand::Simulate { user, role, group, actions, resource, contexts, policy_file, assume_role, principal, client },
        } => {
            let mut args: Vec<String> = Vec::new();
            for (k, v) in [
                ("UserName", user),
                ("RoleName", role),
                ("GroupName", group),
                ("AssumeRoleName", assume_role),
                ("Principal", principal),
                ("Resource", resource),
            ] {
                if let Some(v) = v {
                    args.push(format!("{k}={v}"));
                }
            }
            args.extend(actions.iter().enumerate().map(|(i, a)| format!("Action.{}={a}", i + 1)));
            for (i, c) in contexts.iter().enumerate() {
                let (k, v) = c.split_once('=').with_context(|| format!("--context {c:?} is not key=value"))?;
                args.push(format!("ContextEntry.{}.Key={k}", i + 1));
                args.push(format!("ContextEntry.{}.Value={v}", i + 1));
            }
            if let Some(f) = policy_file {
                args.push(format!("PolicyDocument=@{}", f.display()));
            }
            let out = client.call_ok("rolestack", "SimulatePolicy", &args)?;
            for r in out["Results"].as_array().cloned().unwrap_or_default() {
                println!("{}", serde_json::to_string(&r)?);
            }
            Ok(())
        }
        Command::Events { event_name, user, resource_name, service, max, follow, client } => {
            let filters: Vec<(&str, String)> =
                [("EventName", event_name), ("User", user), ("ResourceName", resource_name), ("ServiceName", service)]
                    .into_iter()
                    .filter_map(|(k, v)| v.map(|v| (k, v)))
                    .collect();
            if filters.len() > rolestack_core::actiontrail::MAX_ATTRIBUTES {
                // LookupEvents would use the first two only: say so rather than print more than asked.
                anyhow::bail!(
                    "LookupEvents takes at most {} conditions: give at most two of --event-name, --user, --resource-name and --service",
                    rolestack_core::actiontrail::MAX_ATTRIBUTES
                );
            }
            events::run(&client, &filters, max, follow)
        }
        Command::Role { command: RoleCommand::RevokeSessions { role_name, client } } => {
            print_json(client.call_ok("rolestack", "RevokeRoleSessions", &[format!("RoleName={role_name}")])?)
        }
        Command::Oidc { command: OidcCommand::Token { sub, aud, ttl, out, client } } => {
            let v = client.call_ok(
                "rolestack",
                "IssueOidcToken",
                &[format!("Subject={sub}"), format!("Audience={}", aud.join(",")), format!("DurationSeconds={ttl}")],
            )?;
            let token = v["Token"].as_str().unwrap_or_default();
            match out {
                // A bearer credential: readable by its owner only, as a projected service-account token is.
                Some(path) => data_dir::write_private(&path, token.as_bytes())?,
                None => println!("{token}"),
            }
            Ok(())
        }
        Command::Oidc { command: OidcCommand::Issuer { client } } => print_json(client.call_ok("rolestack", "DescribeOidcIssuer", &[])?),
    }
}

fn print_json(v: serde_json::Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(&v)?);
    Ok(())
}

struct ServeArgs {
    log_format: LogFormat,
    data_dir: PathBuf,
    listen: SocketAddr,
    tls_listen: TlsListen,
    key_file: Option<PathBuf>,
    fake_clock: bool,
    namespaces: Namespaces,
    database_url: Option<String>,
    node_name: Option<String>,
    advertise: Option<String>,
    blob_url: Option<String>,
    connections: ConnectionArgs,
    retention: Retention,
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let ServeArgs {
        log_format,
        data_dir,
        listen,
        tls_listen,
        key_file,
        fake_clock,
        namespaces,
        database_url,
        node_name,
        advertise,
        blob_url,
        connections: connection_args,
        retention,
    } = args;
    let filter = tracing_subscriber::EnvFilter::try_from_env("ROLESTACK_LOG").unwrap_or_else(|_| "info".into());
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match log_format {
        LogFormat::Json => logs.json().init(),
        LogFormat::Text => logs.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())).init(),
    }
    // Metrics recorded from here on reach /metrics; the Prometheus recorder itself is built on a
    // thread of its own, at the lowest priority (its clock calibrates by spinning: ~10 ms of CPU
    // on a busy VM, which would otherwise be taken from starting up on a machine of few cores),
    // and takes over what was recorded until it is there.
    rolestack_server::telemetry::install().map_err(|e| anyhow::anyhow!("installing the metrics recorder: {e}"))?;
    std::thread::Builder::new().name("metrics-install".into()).spawn(|| {
        // SAFETY: a plain system call; on Linux PRIO_PROCESS with 0 names the calling thread.
        unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 19) };
        if let Err(e) = rolestack_server::telemetry::install_prometheus() {
            tracing::error!(error = %e, "building the Prometheus metrics recorder failed");
        }
    })?;
    // Blobs written by this process are newer than this; older unreferenced ones are orphans.
    let started = std::time::SystemTime::now();
    // Everything the server writes (database, journal, bodies) is for its owner only.
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o077));
    let fd_limit = rolestack_server::connections::raise_fd_limit().context("raising the open-file limit")?;
    // Bind first: a port in use is reported before anything is created.
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let stop = shutdown_signal(&runtime)?;
    let listener = runtime.block_on(tokio::net::TcpListener::bind(listen)).with_context(|| format!("binding {listen}"))?;
    let local = listener.local_addr()?;
    let tls_listener = match tls_listen {
        TlsListen::Off => None,
        TlsListen::At(addr) => {
            Some(runtime.block_on(tokio::net::TcpListener::bind(addr)).with_context(|| format!("binding {addr} (--tls-listen)"))?)
        }
    };
    let dir = DataDir::new(data_dir);
    dir.create()?;
    let key = dir.server_key(key_file.as_deref())?;
    let store: Arc<dyn Store> = match database_url {
        Some(url) => Arc::new(PostgresStore::connect(&url).context("connecting to the PostgreSQL database (--database-url)")?),
        None => Arc::new(SqliteStore::open(&dir.database()).context("opening the SQLite database")?),
    };
    let clock = if fake_clock { Clock::fake() } else { Clock::default() };
    // Several nodes on one PostgreSQL: the same server key everywhere, each node registered.
    let cluster = if store.shared() {
        rolestack_core::cluster::check_server_key(store.as_ref(), &key).context("checking the server key against the database")?;
        if let Some(name) = &node_name {
            let node = rolestack_core::cluster::NodeRecord {
                name: name.clone(),
                api_address: advertise.clone().unwrap_or_else(|| local.to_string()),
                started: rolestack_core::clock::format_date(clock.real_now()),
            };
            rolestack_core::cluster::register_node(store.as_ref(), &node).context("registering this node")?;
        }
        Arc::new(rolestack_core::cluster::Cluster::shared_store(node_name.clone()))
    } else {
        Arc::new(rolestack_core::cluster::Cluster::single())
    };
    let (account, created) = ensure_account(store.as_ref(), &key, &clock)?;
    if let Some(creds) = created {
        dir.write_root_credentials(&creds)?;
        println!(
            "Created account {} with a root AccessKey (shown once; also saved in {}):",
            creds.account_id,
            dir.credentials_file().display()
        );
        println!("  ALIBABA_CLOUD_ACCESS_KEY_ID={}", creds.access_key_id);
        println!("  ALIBABA_CLOUD_ACCESS_KEY_SECRET={}", creds.access_key_secret);
    }
    // The local OIDC issuer (made once; its URL is the HTTPS listener's at that first start).
    let issuer_addr = tls_listener.as_ref().and_then(|l| l.local_addr().ok()).unwrap_or(local);
    rolestack_core::oidc::ensure_issuer(store.as_ref(), &key, &format!("https://{issuer_addr}"), clock.now())
        .context("creating the local OIDC issuer")?;
    let blobs = open_blobs(blob_url.as_deref(), &dir, cluster.node_name())?;
    // Another node may be between writing a body and committing its record: on a shared store
    // only bodies older than an hour before this start are orphan candidates.
    let orphans_before = if cluster.shared() { started - std::time::Duration::from_secs(3600) } else { started };
    let limits = Limits {
        header_timeout: std::time::Duration::from_secs(connection_args.header_timeout_secs),
        idle_timeout: std::time::Duration::from_secs(connection_args.idle_timeout_secs),
        drain_timeout: std::time::Duration::from_secs(connection_args.drain_timeout_secs),
        max_connections: connection_args.max_connections.unwrap_or_else(|| connections_for_fd_limit(fd_limit)),
        ..Limits::default()
    };
    let (connections, shutdown) = Connections::new(limits);
    let mode = match namespaces {
        Namespaces::Auto => NamespaceMode::Auto,
        Namespaces::On => NamespaceMode::On,
        Namespaces::Off => NamespaceMode::Off,
    };
    let ca = Arc::new(LabCa::load(&dir.ca_files()?).context("loading the local CA (ca.pem, ca.key in the data directory)")?);
    let tls_config = ca.server_config().context("configuring TLS")?;
    let network = HostNetwork::new(runtime.handle().clone(), connections.clone(), ca, tls_config.clone(), local.port(), mode);
    let audit = AuditTrail::start(store.clone(), retention, clock.clone());
    let (replay, nonce_files) = replay_guard(&dir, store.as_ref(), &clock)?;
    return_memory_after_bursts(store.clone());
    replay.start_flusher(Arc::new(nonce_files));
    let state = Rolestack::new(store, key, clock)
        .with_network(network.clone())
        .with_blobs(blobs)
        .with_audit(audit.clone())
        .with_replay(replay.clone())
        .with_cluster(cluster.clone());
    network.attach(state.clone());
    state.cluster.refresh(&state);
    tracing::info!(
        account,
        listen = %local,
        tls_listen = tls_listener.as_ref().and_then(|l| l.local_addr().ok()).map(|a| a.to_string()).unwrap_or_else(|| "off".into()),
        ca = %dir.ca_certificate_file().display(),
        data_dir = %dir.path().display(),
        fake_clock,
        instance_namespaces = network.namespaces_enabled(),
        max_connections = connections.limits().max_connections,
        "rolestack serving"
    );
    // In the background, while already serving: bodies a crash left without a record, and files
    // an earlier version left readable by others (the directory itself is 0700 already).
    // Lifecycle rules run by the server's clock: at start, then whenever an hour of it has
    // passed (a moved fake clock included), checked every second.
    let lifecycle = state.clone();
    std::thread::Builder::new().name("oss-lifecycle".into()).spawn(move || {
        let oss = lifecycle.oss();
        let mut next = i64::MIN;
        loop {
            let now = lifecycle.clock.now().unix_timestamp();
            if now >= next {
                match oss.run_lifecycle() {
                    Ok(run) if run == Default::default() => {}
                    Ok(run) => {
                        tracing::info!(expired = run.expired, transitioned = run.transitioned, aborted = run.aborted, "oss lifecycle")
                    }
                    Err(e) => tracing::error!(error = %e, "oss lifecycle run failed"),
                }
                next = now + 3600;
            }
            std::thread::sleep(std::time::Duration::from_secs(1));
        }
    })?;
    let collector = state.clone();
    let private = dir.clone();
    if let Some(node) = cluster.node_name().map(str::to_string) {
        // A node that restarts brings back the networks of the running instances that live on
        // it, and takes down those of instances stopped or deleted through another node.
        let host = state.clone();
        let served = network.clone();
        std::thread::Builder::new()
            .name("instance-networks".into())
            .spawn(move || {
                bring_back_instances(&host, &node);
                loop {
                    std::thread::sleep(RELEASE_EVERY);
                    release_deleted_instances(&host, &served, &node);
                }
            })
            .context("starting the instance network thread")?;
    }
    runtime.spawn_blocking(move || {
        match rolestack_core::oss::orphans::collect(collector.store.as_ref(), collector.blobs.as_ref(), orphans_before) {
            Ok(c) => tracing::info!(candidates = c.candidates, removed = c.removed.len(), "orphan collection done"),
            Err(e) => tracing::error!(error = %e, "orphan collection failed"),
        }
        if let Err(e) = private.restrict_permissions() {
            tracing::error!(error = %e, "restricting the data directory's permissions failed");
        }
    });
    runtime.spawn(async move {
        stop.await;
        shutdown.trigger();
    });
    runtime.block_on(rolestack_server::serve(listener, tls_listener.map(|l| (l, tls_config)), state.clone(), connections));
    network.shutdown();
    audit.close();
    if replay.mark_clean() {
        dir.stopped_cleanly()?;
    }
    tracing::info!("rolestack stopped");
    Ok(())
}

/// Prepares the network of every running instance placed on this node (after a restart).
fn bring_back_instances(rs: &Rolestack, node: &str) {
    match rolestack_core::cluster::instances_on(rs.store.as_ref(), node) {
        Ok(instances) => {
            for (account, instance) in &instances {
                if let Err(e) = rs.network.prepare(account, instance) {
                    tracing::warn!(instance, error = %e, "could not bring the instance's network back");
                }
            }
            tracing::info!(node, instances = instances.len(), "instance networks of this node brought back");
        }
        Err(e) => tracing::error!(node, error = %e, "could not list this node's instances"),
    }
}

/// How often a node of a cluster looks for instances deleted through other nodes.
const RELEASE_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// Takes down the networks this node serves for instances that no longer run on it (deleted or
/// stopped through another node), ending their programs.
fn release_deleted_instances(rs: &Rolestack, network: &HostNetwork, node: &str) {
    let served = network.prepared_instances();
    if served.is_empty() {
        return;
    }
    match rolestack_core::cluster::instances_on(rs.store.as_ref(), node) {
        Ok(placed) => {
            let placed: std::collections::HashSet<String> = placed.into_iter().map(|(_, id)| id).collect();
            for id in served.iter().filter(|id| !placed.contains(*id)) {
                // Stopped or deleted through another node (whether forced is not recorded).
                rolestack_core::network::InstanceNetwork::release(network, id, rolestack_core::network::PowerOff::Graceful);
                tracing::info!(instance = %id, "instance stopped or deleted elsewhere: its network is taken down");
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not list this node's instances"),
    }
}

/// The store of OSS object bodies `--blob-url` names (the data directory's `blobs/` without it).
/// An object store must answer before the server starts serving.
/// On a node of a cluster (`node`), a directory may be shared with the other nodes: this node
/// writes its temp files in a directory of its own.
fn open_blobs(url: Option<&str>, dir: &DataDir, node: Option<&str>) -> anyhow::Result<Arc<dyn rolestack_core::oss::blob::BlobStore>> {
    let local = |path: std::path::PathBuf| -> anyhow::Result<Arc<dyn rolestack_core::oss::blob::BlobStore>> {
        let store = match node {
            Some(node) => rolestack_blob_fs::FsBlobStore::open_for_node(&path, node),
            None => rolestack_blob_fs::FsBlobStore::open(&path),
        };
        let store = store.with_context(|| format!("opening the OSS blob directory {}", path.display()))?;
        Ok(Arc::new(store))
    };
    let Some(url) = url else { return local(dir.path().join("blobs")) };
    if let Some(path) = url.strip_prefix("file://") {
        anyhow::ensure!(path.starts_with('/'), "--blob-url file:// needs an absolute path (file:///PATH)");
        return local(path.into());
    }
    let location = rolestack_blob_opendal::S3Location::parse(url).context("--blob-url")?;
    let store = rolestack_blob_opendal::OpenDalBlobStore::s3(&location).context("--blob-url")?;
    rolestack_core::oss::blob::BlobStore::check(&store).with_context(|| format!("reaching the blob store {}", store.describe()))?;
    tracing::info!(blob_store = store.describe(), "OSS bodies in an object store");
    Ok(Arc::new(store))
}

/// Gives memory freed after a burst of requests back to the system: the store's page caches
/// (`Store::release_memory`), then what the C allocator keeps in its arenas — the server would
/// stay at its peak size otherwise. Once a second, when requests were answered before but none
/// in the last second. Every second, too, the latencies recorded for the metrics are folded into
/// their histograms (`telemetry::upkeep`), so they never pile up.
fn return_memory_after_bursts(store: Arc<dyn Store>) {
    let spawned = std::thread::Builder::new().name("memory".into()).spawn(move || {
        let (mut seen, mut trimmed) = (0, 0);
        loop {
            std::thread::sleep(std::time::Duration::from_secs(1));
            rolestack_server::telemetry::upkeep();
            let served = rolestack_server::telemetry::served();
            if served == seen && served != trimmed {
                store.release_memory();
                // SAFETY: malloc_trim only returns free memory of the allocator to the system.
                unsafe { libc::malloc_trim(0) };
                trimmed = served;
            }
            seen = served;
        }
    });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "no memory-returning thread");
    }
}

/// The replay guard: the request nonces still guarded (from the store and the nonce log, which
/// it journals to), and — after an unclean stop, when the last journal batch may be lost — a
/// restart epoch before which signatures are refused. Serving starts at the epoch (the next
/// whole second), so no request signed before it can pass.
fn replay_guard(dir: &DataDir, store: &dyn Store, clock: &Clock) -> anyhow::Result<(Arc<NonceGuard>, nonce_log::NonceFiles)> {
    let unclean = dir.mark_running()?;
    let now = clock.real_now();
    let epoch = if unclean && !store.shared() {
        let epoch = now.unix_timestamp() + 1;
        std::thread::sleep(std::time::Duration::from_nanos(1_000_000_000 - u64::from(now.nanosecond())));
        tracing::warn!(epoch, "the last server did not stop cleanly: requests signed before this start are refused");
        epoch
    } else {
        0
    };
    let log = nonce_log::NonceFiles::open(&dir.nonce_log(), now.unix_timestamp())?;
    let guard = NonceGuard::with_key(epoch, log.key);
    guard.remember_spent(log.live);
    let live = store.begin_read()?.nonces_live(now.unix_timestamp())?;
    guard.remember(live);
    Ok((guard, log.files))
}

/// Waits for SIGINT or SIGTERM. The handlers are installed when this is called, not when the
/// future is first polled: a signal that arrives as soon as the server answers (a supervisor, a
/// benchmark) still stops it cleanly instead of killing it.
fn shutdown_signal(runtime: &tokio::runtime::Runtime) -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let _enter = runtime.enter();
    let mut interrupt = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    let mut terminate = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    Ok(async move {
        tokio::select! { _ = interrupt.recv() => {}, _ = terminate.recv() => {} }
    })
}
