//! Pseudonymous client codes: a short code (`C-014`, `ab12`) that names a client across
//! sessions without naming the person. Only letters, digits, `-`, `_` and `.` are taken,
//! so a code is safe in file names and reports, and a full name does not fit naturally.

/// Longest client code, in characters.
pub const MAX_CLIENT_CODE_CHARS: usize = 32;

/// Checks a client code; the error is one line saying what is wrong.
pub fn check_client_code(code: &str) -> Result<(), String> {
    if code.chars().count() > MAX_CLIENT_CODE_CHARS {
        return Err(format!("client code '{code}' is longer than {MAX_CLIENT_CODE_CHARS} characters"));
    }
    if let Some(bad) = code.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))) {
        return Err(format!(
            "client code '{code}' has '{bad}': use letters, digits, '-', '_' or '.' (a code, not a name)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_short_and_plain() {
        assert!(check_client_code("").is_ok());
        assert!(check_client_code("C-014").is_ok());
        assert!(check_client_code("ab_12.x").is_ok());
        assert!(check_client_code("Jane Doe").expect_err("space").contains("' '"));
        assert!(check_client_code("C/1").is_err());
        assert!(check_client_code(&"x".repeat(33)).is_err());
    }
}
