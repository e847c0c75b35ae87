//! `edgepass serve` (the default) and `edgepass migrate`.

use std::collections::BTreeMap;
use std::process::ExitCode;

use clap::Args;

use super::CliError;
use crate::app::{self, Application, StartupError};
use crate::config::Config;
use crate::telemetry;

/// `serve` flags; each overrides its environment variable.
#[derive(Debug, Default, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on (EDGEPASS_LISTEN; default 127.0.0.1:8080).
    #[arg(long)]
    listen: Option<String>,
    /// Folder for local state (EDGEPASS_DATA_DIR; default ./edgepass-data).
    #[arg(long)]
    data_dir: Option<String>,
    /// Address of the local edge, the CloudFront stand-in, or `off` (EDGEPASS_EDGE_LISTEN; default
    /// 127.0.0.1:8081 with the embedded store).
    #[arg(long)]
    edge_listen: Option<String>,
    /// Address `/metrics` is served on, apart from the API, or `off` (EDGEPASS_METRICS_LISTEN; default
    /// 127.0.0.1:8082).
    #[arg(long)]
    metrics_listen: Option<String>,
}

fn load_config(mut env: BTreeMap<String, String>, args: &ServeArgs) -> Result<Config, CliError> {
    if let Some(listen) = &args.listen {
        env.insert("EDGEPASS_LISTEN".to_owned(), listen.clone());
    }
    if let Some(dir) = &args.data_dir {
        env.insert("EDGEPASS_DATA_DIR".to_owned(), dir.clone());
    }
    if let Some(edge) = &args.edge_listen {
        env.insert("EDGEPASS_EDGE_LISTEN".to_owned(), edge.clone());
    }
    if let Some(metrics) = &args.metrics_listen {
        env.insert("EDGEPASS_METRICS_LISTEN".to_owned(), metrics.clone());
    }
    let config = Config::from_env(&env).map_err(|e| CliError::usage("", &e))?;
    let filter = env
        .get("EDGEPASS_LOG")
        .or_else(|| env.get("RUST_LOG"))
        .map_or("info", String::as_str);
    telemetry::init(config.log_format, filter);
    Ok(config)
}

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::failed("cannot start the async runtime", &e))
}

/// A start that failed: exit 2 when the configuration is at fault, 1 otherwise.
fn startup_failure(error: StartupError) -> CliError {
    if error.is_configuration() {
        CliError::usage("", &error)
    } else {
        CliError::failed("", &error)
    }
}

/// Serves until SIGINT/SIGTERM.
pub(crate) fn serve(env: BTreeMap<String, String>, args: &ServeArgs) -> Result<ExitCode, CliError> {
    let config = load_config(env, args)?;
    runtime()?.block_on(async move {
        let application = Application::build(config).await.map_err(startup_failure)?;
        application
            .run_until_stopped()
            .await
            .map_err(|e| CliError::failed("server failed", &e))?;
        Ok(ExitCode::SUCCESS)
    })
}

/// Applies the migrations and exits.
pub(crate) fn migrate(env: BTreeMap<String, String>, args: &ServeArgs) -> Result<ExitCode, CliError> {
    let config = load_config(env, args)?;
    runtime()?.block_on(async move {
        app::prepare_database(&config).await.map_err(startup_failure)?;
        tracing::info!("migrations applied");
        Ok(ExitCode::SUCCESS)
    })
}
