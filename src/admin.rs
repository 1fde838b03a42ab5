//! `dataport user add` and `dataport token add`: user management from the
//! portal's own machine, for the first admin and for automation.

use std::io::BufRead;

use crate::config::mask_password;
use crate::config::{TokenAddArgs, TokenCommand, UserAddArgs, UserCommand};
use crate::error::StartError;
use crate::service::{Role, Service, ServiceError};
use crate::store::Store;

async fn service(database_url: &str) -> Result<Service, StartError> {
    let store = Store::connect(database_url)
        .await
        .map_err(|source| StartError::Database {
            url: mask_password(database_url),
            source,
        })?;
    Ok(Service::new(store, None))
}

fn refused(error: ServiceError) -> StartError {
    StartError::Refused(error.explain())
}

/// Runs `dataport user ...`.
pub async fn run_user(command: UserCommand) -> Result<(), StartError> {
    let UserCommand::Add(args) = command;
    add_user(args).await
}

async fn add_user(args: UserAddArgs) -> Result<(), StartError> {
    let role: Role = if args.admin {
        Role::Admin
    } else {
        args.role.parse().map_err(|()| {
            StartError::Refused(format!(
                "unknown role {:?}: use viewer, operator or admin",
                args.role
            ))
        })?
    };
    let password = match std::env::var("DATAPORT_PASSWORD") {
        Ok(password) => password,
        Err(_) => {
            eprintln!("Password for {} (one line on standard input):", args.name);
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|error| {
                    StartError::Refused(format!("cannot read the password: {error}"))
                })?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    let service = service(&args.database_url).await?;
    let user = service
        .add_user("dataport-cli", &args.name, &password, role)
        .await
        .map_err(refused)?;
    println!("added {} ({})", user.name, user.role);
    Ok(())
}

/// Runs `dataport token ...`.
pub async fn run_token(command: TokenCommand) -> Result<(), StartError> {
    let TokenCommand::Add(args) = command;
    add_token(args).await
}

async fn add_token(args: TokenAddArgs) -> Result<(), StartError> {
    let service = service(&args.database_url).await?;
    let user = service
        .users()
        .await
        .map_err(refused)?
        .into_iter()
        .find(|user| user.name == args.user)
        .ok_or_else(|| StartError::Refused(format!("no user named {}", args.user)))?;
    let (_, token) = service
        .create_token(&user, &args.name)
        .await
        .map_err(refused)?;
    println!("{token}");
    Ok(())
}
