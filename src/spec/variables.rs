//! Stack variables: declared with a type and an optional default, set by `--var name=value` or by the
//! environment (`STACKCTL_VAR_<name>`). Precedence: `--var`, then the environment, then the default.

use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarType {
    String,
    Number,
    Bool,
}

impl VarType {
    pub const NAMES: &'static [&'static str] = &["string", "number", "bool"];

    pub fn from_name(name: &str) -> Option<VarType> {
        match name {
            "string" => Some(VarType::String),
            "number" => Some(VarType::Number),
            "bool" => Some(VarType::Bool),
            _ => None,
        }
    }

    /// The value in canonical text form, or why it does not fit the type.
    pub fn check(self, value: &str) -> Result<String, String> {
        match self {
            VarType::String => Ok(value.to_string()),
            VarType::Number => value
                .trim()
                .parse::<i64>()
                .map(|n| n.to_string())
                .map_err(|_| format!("`{value}` is not a whole number")),
            VarType::Bool => match value.trim() {
                "true" => Ok("true".into()),
                "false" => Ok("false".into()),
                _ => Err(format!("`{value}` is not `true` or `false`")),
            },
        }
    }
}

/// Variable values given outside the stack file.
#[derive(Debug, Clone, Default)]
pub struct VarInputs {
    /// From `--var name=value`, in order given (a later one wins).
    pub cli: BTreeMap<String, String>,
    /// From `STACKCTL_VAR_<name>`.
    pub env: BTreeMap<String, String>,
}

pub const ENV_PREFIX: &str = "STACKCTL_VAR_";

impl VarInputs {
    /// Parses `--var` arguments and reads `STACKCTL_VAR_*` from the environment.
    pub fn gather(cli_args: &[String]) -> Result<VarInputs, String> {
        let mut inputs = VarInputs::default();
        for arg in cli_args {
            let (name, value) = arg.split_once('=').ok_or_else(|| {
                format!("--var {arg}: expected name=value, for example --var vpc_name=demo-vpc")
            })?;
            if name.is_empty() {
                return Err(format!("--var {arg}: the variable name is empty"));
            }
            inputs.cli.insert(name.to_string(), value.to_string());
        }
        for (key, value) in std::env::vars() {
            if let Some(name) = key.strip_prefix(ENV_PREFIX) {
                inputs.env.insert(name.to_string(), value);
            }
        }
        Ok(inputs)
    }

    /// The value for `name` and where it came from.
    pub fn lookup(&self, name: &str) -> Option<(&str, String)> {
        if let Some(v) = self.cli.get(name) {
            return Some((v, format!("--var {name}")));
        }
        self.env
            .get(name)
            .map(|v| (v.as_str(), format!("{ENV_PREFIX}{name}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_check_values() {
        assert_eq!(VarType::Number.check(" 42").unwrap(), "42");
        assert!(VarType::Number.check("forty").is_err());
        assert!(VarType::Bool.check("yes").is_err());
    }

    #[test]
    fn cli_beats_environment() {
        let mut inputs = VarInputs::gather(&["a=1".into(), "a=2".into()]).unwrap();
        inputs.env.insert("a".into(), "env".into());
        assert_eq!(inputs.lookup("a").unwrap().0, "2");
        assert!(VarInputs::gather(&["novalue".into()]).is_err());
    }
}
