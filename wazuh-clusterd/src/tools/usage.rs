//! Wrong arguments, as Wazuh's tools treat them: say what is wrong, print the usage, exit 1
//! (help and version still exit 0).

use std::ffi::OsString;
use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser};

/// Parses `args` into `T`, or prints what is wrong and the usage and returns the exit code.
pub fn parse<T: Parser>(args: impl IntoIterator<Item = OsString>) -> Result<T, ExitCode> {
    T::try_parse_from(args).map_err(|error| match error.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = error.print();
            ExitCode::SUCCESS
        }
        _ => {
            let text = error.to_string();
            // clap's message runs until its usage line; its later lines name the arguments.
            let what: Vec<&str> = text
                .lines()
                .take_while(|line| !line.starts_with("Usage:"))
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .collect();
            wrong_arguments::<T>(what.join(" ").trim_start_matches("error: "))
        }
    })
}

/// Prints `Wrong arguments. <what>.` (Wazuh's first words) and the help of `T` to stderr;
/// exit code 1.
pub fn wrong_arguments<T: CommandFactory>(what: &str) -> ExitCode {
    eprintln!("Wrong arguments. {}.\n", what.trim_end_matches('.'));
    eprintln!("{}", T::command().render_help());
    ExitCode::FAILURE
}
