//! Getting a session passphrase: from a file (`--passphrase-file`, its first line) or
//! typed at the terminal without echo. Never from a command-line argument, where every
//! user of the machine could read it in the process list.

use std::io::IsTerminal;
use std::path::Path;

use age::secrecy::SecretString;

/// Reads the passphrase from `file` (its first line), or asks on the terminal (twice
/// when `confirm`, for a new session). Errors are one line.
pub fn read_passphrase(file: Option<&Path>, confirm: bool) -> Result<SecretString, String> {
    let text = match file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read the passphrase file {}: {e}", path.display()))?;
            text.lines().next().unwrap_or_default().to_owned()
        }
        None => {
            if !std::io::stdin().is_terminal() {
                return Err("an encrypted session needs a passphrase: run in a terminal, or give --passphrase-file FILE".into());
            }
            let first = rpassword::prompt_password("Session passphrase: ")
                .map_err(|e| format!("cannot read the passphrase: {e}"))?;
            if confirm {
                let again = rpassword::prompt_password("Same passphrase again: ")
                    .map_err(|e| format!("cannot read the passphrase: {e}"))?;
                if again != first {
                    return Err("the two passphrases differ; nothing was recorded".into());
                }
            }
            first
        }
    };
    if text.is_empty() {
        return Err("the passphrase is empty".into());
    }
    Ok(SecretString::from(text))
}
