//! `tessera theme`: list the themes and check that every page of one renders.

use clap::Subcommand;

use crate::state::AppState;

#[derive(Subcommand)]
pub(super) enum ThemeCommand {
    /// Render every page of a theme (or of all themes) with sample data and report errors.
    Check { name: Option<String> },
    /// List the themes found in the themes folder.
    List,
}

pub(super) fn run(state: &AppState, command: ThemeCommand) -> Result<(), String> {
    match command {
        ThemeCommand::List => {
            for name in state.views.theme_names() {
                println!("{name}");
            }
            Ok(())
        }
        ThemeCommand::Check { name } => {
            let names = match name {
                Some(name) if state.views.has_theme(&name) => vec![name],
                Some(name) => {
                    return Err(format!(
                        "unknown theme {name:?}; known: {}",
                        state.views.theme_names().join(", ")
                    ));
                }
                None => state.views.theme_names(),
            };
            let mut failures = Vec::new();
            for name in &names {
                let found = state.views.check(name);
                if found.is_empty() {
                    println!("theme {name}: every page renders in every language");
                }
                failures.extend(found);
            }
            if failures.is_empty() {
                Ok(())
            } else {
                for failure in &failures {
                    eprintln!("{failure}");
                }
                Err(format!("{} page(s) failed to render", failures.len()))
            }
        }
    }
}
