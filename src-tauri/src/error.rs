//! The one error a command returns: any library error, wrapped once, crossing to the page as
//! `{ message }` with its whole chain of causes.

use serde::Serialize;

#[derive(Debug)]
pub struct AppError(anyhow::Error);

impl<E: Into<anyhow::Error>> From<E> for AppError {
    fn from(e: E) -> Self {
        AppError(e.into())
    }
}

impl Serialize for AppError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = s.serialize_struct("AppError", 1)?;
        out.serialize_field("message", &format!("{:#}", self.0))?;
        out.end()
    }
}

pub type CommandResult<T> = Result<T, AppError>;

/// An error with this message.
pub fn fail(message: impl std::fmt::Display) -> AppError {
    AppError(anyhow::anyhow!("{message}"))
}
