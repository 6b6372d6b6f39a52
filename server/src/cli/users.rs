//! `kiemke-server user add|list|passwd|disable`: web users, on a stopped
//! server's store (like `token`, `agent`, `site`); while the server runs, the
//! province admin uses the `/users` page.
//!
//! `user add NAME --role province-admin|province-viewer|commune-officer
//! [--commune CODE] [--password-stdin]` prints a generated password (once)
//! unless one is read from standard input; a generated password must be
//! changed at the first log-in. Every change goes to the audit log as
//! `cli`.

use std::io::Read;

use anyhow::{anyhow, bail};
use clap::{Args, Subcommand, ValueEnum};
use kiemke_shared::{CommuneCode, Lang};

use super::trust::StoreArgs;
use crate::auth::Role;
use crate::auth::accounts::{self, AccountError};
use crate::store::Store;

/// Who the audit log names for these commands.
const WHO: &str = "cli";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    ProvinceAdmin,
    ProvinceViewer,
    CommuneOfficer,
}

#[derive(Debug, Args)]
pub struct PasswordArgs {
    /// Đọc mật khẩu từ đầu vào chuẩn (read the password from stdin; else one
    /// is generated and printed)
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Thêm người dùng (add a user)
    Add {
        /// Tên đăng nhập: chữ thường, số, . _ - (user name)
        name: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Mã xã, bắt buộc với commune-officer (commune code)
        #[arg(long)]
        commune: Option<CommuneCode>,
        #[command(flatten)]
        password: PasswordArgs,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Liệt kê người dùng (list users)
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Đặt mật khẩu mới (set a new password)
    Passwd {
        name: String,
        #[command(flatten)]
        password: PasswordArgs,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Vô hiệu hóa người dùng (disable a user)
    Disable {
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

impl UserCommand {
    pub fn store_args(&self) -> &StoreArgs {
        match self {
            UserCommand::Add { store, .. }
            | UserCommand::List { store }
            | UserCommand::Passwd { store, .. }
            | UserCommand::Disable { store, .. } => store,
        }
    }
}

/// The role from `--role` and `--commune`.
pub fn role(arg: RoleArg, commune: Option<CommuneCode>, lang: Lang) -> anyhow::Result<Role> {
    match (arg, commune) {
        (RoleArg::ProvinceAdmin, None) => Ok(Role::ProvinceAdmin),
        (RoleArg::ProvinceViewer, None) => Ok(Role::ProvinceViewer),
        (RoleArg::CommuneOfficer, Some(c)) => Ok(Role::CommuneOfficer(c)),
        (RoleArg::CommuneOfficer, None) => bail!(
            "{}",
            lang.pick(
                "Cán bộ xã cần --commune MÃ-XÃ.",
                "A commune officer needs --commune CODE."
            )
        ),
        (_, Some(_)) => bail!(
            "{}",
            lang.pick(
                "--commune chỉ dùng với --role commune-officer.",
                "--commune goes only with --role commune-officer."
            )
        ),
    }
}

/// A role in the user's language.
pub fn role_label(role: &Role, lang: Lang) -> String {
    match (role, lang) {
        (Role::ProvinceAdmin, _) => lang.pick("quản trị tỉnh", "province admin").into(),
        (Role::ProvinceViewer, _) => lang.pick("xem toàn tỉnh", "province viewer").into(),
        (Role::CommuneOfficer(c), Lang::Vi) => format!("cán bộ xã {c}"),
        (Role::CommuneOfficer(c), Lang::En) => format!("commune officer {c}"),
    }
}

fn read_password(args: &PasswordArgs) -> anyhow::Result<Option<String>> {
    if !args.password_stdin {
        return Ok(None);
    }
    let mut text = String::new();
    std::io::stdin()
        .take(4096)
        .read_to_string(&mut text)
        .map_err(|e| anyhow!("stdin: {e}"))?;
    Ok(Some(text.trim_end_matches(['\r', '\n']).to_owned()))
}

fn told(lang: Lang, e: AccountError) -> anyhow::Error {
    anyhow!(e.message(lang))
}

fn print_generated(lang: Lang, name: &str, password: &str) {
    match lang {
        Lang::Vi => println!(
            "Mật khẩu của {name}: {password}\n(chỉ hiện một lần này; người dùng phải đổi mật khẩu \
             khi đăng nhập lần đầu)"
        ),
        Lang::En => println!(
            "Password of {name}: {password}\n(shown this once; the user must change it at the \
             first log-in)"
        ),
    }
}

pub fn user(command: UserCommand) -> anyhow::Result<()> {
    let (store, lang): (Store, Lang) = super::trust::open_store(command.store_args())?;
    match command {
        UserCommand::Add {
            name,
            role: role_arg,
            commune,
            password,
            ..
        } => {
            let role = role(role_arg, commune, lang)?;
            let chosen = read_password(&password)?;
            let (user, generated) = accounts::create(&store, WHO, &name, role, chosen.as_deref())
                .map_err(|e| told(lang, e))?;
            println!(
                "{} {} ({})",
                lang.pick("Đã thêm người dùng", "Added user"),
                user.name,
                role_label(&user.role, lang)
            );
            if let Some(p) = generated {
                print_generated(lang, &user.name, &p);
            }
        }
        UserCommand::List { .. } => {
            let users = store.users().map_err(|e| anyhow!(e.message(lang)))?;
            for u in &users {
                let state = if u.is_disabled() {
                    lang.pick("đã vô hiệu hóa", "disabled")
                } else {
                    lang.pick("đang hoạt động", "active")
                };
                println!("{:<24} {:<28} {state}", u.name, role_label(&u.role, lang));
            }
            if users.is_empty() {
                println!("{}", lang.pick("(chưa có người dùng)", "(no users)"));
            }
        }
        UserCommand::Passwd { name, password, .. } => {
            let chosen = read_password(&password)?;
            let generated = accounts::set_password(&store, WHO, &name, chosen.as_deref())
                .map_err(|e| told(lang, e))?;
            println!(
                "{} {name}",
                lang.pick("Đã đặt mật khẩu mới cho", "New password set for")
            );
            if let Some(p) = generated {
                print_generated(lang, &name, &p);
            }
        }
        UserCommand::Disable { name, .. } => {
            accounts::disable(&store, WHO, &name).map_err(|e| told(lang, e))?;
            println!(
                "{} {name}",
                lang.pick("Đã vô hiệu hóa người dùng", "Disabled user")
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_need_a_commune_exactly_for_officers() {
        let c = CommuneCode::parse("24118").expect("code");
        assert_eq!(
            role(RoleArg::CommuneOfficer, Some(c.clone()), Lang::Vi).expect("ok"),
            Role::CommuneOfficer(c.clone())
        );
        assert!(role(RoleArg::CommuneOfficer, None, Lang::Vi).is_err());
        assert!(role(RoleArg::ProvinceViewer, Some(c), Lang::Vi).is_err());
        assert_eq!(
            role(RoleArg::ProvinceAdmin, None, Lang::Vi).expect("ok"),
            Role::ProvinceAdmin
        );
    }
}
