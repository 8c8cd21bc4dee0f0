//! Where a state is kept: a local file (the default) or an S3 object (`s3://bucket/key`), as given
//! by `--state` or the stack file's `state:`.

use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateLocation {
    Local(PathBuf),
    S3(S3Object),
}

/// An S3 object: the state document itself. Its lock is `KEY.lock` and, in a bucket without
/// versioning, its earlier versions are `KEY.history/<serial>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Object {
    pub bucket: String,
    pub key: String,
    /// The bucket's region, when it is not the run's (`s3://bucket/key?region=eu-west-1`).
    pub region: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a state location: {problem}")]
pub struct LocationError {
    pub text: String,
    pub problem: String,
}

impl LocationError {
    pub fn help(&self) -> &'static str {
        "write a path (`.stackctl/web.state.json`) or an S3 object (`s3://my-bucket/stacks/web.json`)"
    }
}

impl StateLocation {
    /// Reads a location as written by a user; a relative path is taken relative to `base`.
    pub fn parse(text: &str, base: &Path) -> Result<StateLocation, LocationError> {
        let error = |problem: &str| LocationError {
            text: text.to_string(),
            problem: problem.to_string(),
        };
        if text.trim().is_empty() {
            return Err(error("it is empty"));
        }
        if let Some(rest) = text.strip_prefix("s3://") {
            return S3Object::parse(rest)
                .map(StateLocation::S3)
                .map_err(|p| error(&p));
        }
        if text.len() >= 3 && text[..3].eq_ignore_ascii_case("s3:") {
            let rest = text[3..].trim_start_matches('/');
            return Err(error(&format!(
                "an S3 location starts with `s3://`; did you mean `s3://{rest}`?"
            )));
        }
        if let Some((scheme, _)) = text.split_once("://")
            && scheme.chars().all(|c| c.is_ascii_alphanumeric())
        {
            return Err(error(&format!(
                "`{scheme}://` is not a state backend; states are kept in local files or in S3 (`s3://bucket/key`)"
            )));
        }
        let path = Path::new(text);
        Ok(StateLocation::Local(if path.is_absolute() {
            path.to_path_buf()
        } else {
            base.join(path)
        }))
    }
}

impl S3Object {
    fn parse(rest: &str) -> Result<S3Object, String> {
        let (object, query) = match rest.split_once('?') {
            Some((object, query)) => (object, Some(query)),
            None => (rest, None),
        };
        let Some((bucket, key)) = object.split_once('/') else {
            return Err("it names a bucket but no key: write s3://BUCKET/KEY".into());
        };
        bucket_problem(bucket).map_or(Ok(()), Err)?;
        if key.is_empty() || key.ends_with('/') {
            return Err(
                "the key names a folder, not an object: end it with a file name such as `web.json`"
                    .into(),
            );
        }
        if key.ends_with(".lock") || key.contains(".history/") {
            return Err("keys ending in `.lock` or inside `.history/` are where stackctl keeps a state's lock and earlier versions: choose another key".into());
        }
        if key.len() > 900 {
            return Err("the key is longer than 900 bytes (S3 allows 1,024, and the lock and history objects add to it)".into());
        }
        let mut region = None;
        for pair in query
            .unwrap_or_default()
            .split('&')
            .filter(|p| !p.is_empty())
        {
            match pair.split_once('=') {
                Some(("region", _)) if region.is_some() => {
                    return Err("`region` is given twice".into());
                }
                Some(("region", value)) if is_region(value) => region = Some(value.to_string()),
                Some(("region", value)) => {
                    return Err(format!(
                        "`{value}` is not an AWS region name, such as `eu-west-1`"
                    ));
                }
                _ => {
                    return Err(format!(
                        "unknown option `{pair}`: the only one is `?region=REGION`"
                    ));
                }
            }
        }
        Ok(S3Object {
            bucket: bucket.to_string(),
            key: key.to_string(),
            region,
        })
    }

    /// The object holding the lock of this state.
    pub fn lock_key(&self) -> String {
        format!("{}.lock", self.key)
    }

    /// Where the journal's records are kept, one object per step.
    pub fn journal_prefix(&self) -> String {
        format!("{}.journal/", self.key)
    }

    /// The journal record that brings the state to `serial`.
    pub fn journal_key(&self, serial: u64) -> String {
        format!("{}{serial:010}", self.journal_prefix())
    }

    /// Where the document of `serial` is kept when the bucket does not version objects.
    pub fn history_key(&self, serial: u64) -> String {
        format!("{}.history/{serial:010}.json", self.key)
    }
}

/// Whether `name` has the shape of an AWS region name: `us-east-1`, `us-gov-west-1`, `cn-north-1`.
fn is_region(name: &str) -> bool {
    let parts: Vec<&str> = name.split('-').collect();
    let Some((number, words)) = parts.split_last() else {
        return false;
    };
    parts.len() >= 3
        && parts[0].len() == 2
        && words
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && !number.is_empty()
        && number.chars().all(|c| c.is_ascii_digit())
}

/// What makes `bucket` an invalid S3 bucket name, following AWS's naming rules.
fn bucket_problem(bucket: &str) -> Option<String> {
    if bucket.is_empty() {
        return Some("the bucket name is empty: write s3://BUCKET/KEY".into());
    }
    if !(3..=63).contains(&bucket.len()) {
        return Some(format!(
            "bucket names are 3 to 63 characters long; `{bucket}` has {}",
            bucket.len()
        ));
    }
    if let Some(c) = bucket
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '.'))
    {
        return Some(format!(
            "bucket names hold lowercase letters, digits, `-` and `.`; `{bucket}` has `{c}`"
        ));
    }
    let edges = [bucket.chars().next(), bucket.chars().last()];
    if edges.iter().flatten().any(|c| !c.is_ascii_alphanumeric()) {
        return Some(format!(
            "bucket names begin and end with a letter or digit: `{bucket}`"
        ));
    }
    if bucket.contains("..") {
        return Some(format!("bucket names never hold `..`: `{bucket}`"));
    }
    None
}

impl fmt::Display for StateLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StateLocation::Local(path) => write!(f, "{}", path.display()),
            StateLocation::S3(object) => write!(f, "{object}"),
        }
    }
}

impl fmt::Display for S3Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)?;
        if let Some(region) = &self.region {
            write!(f, "?region={region}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<StateLocation, String> {
        StateLocation::parse(text, Path::new("/work")).map_err(|e| e.problem)
    }

    #[test]
    fn reads_paths_and_s3_objects() {
        assert_eq!(
            parse("state/web.json").unwrap(),
            StateLocation::Local("/work/state/web.json".into())
        );
        assert_eq!(
            parse("/abs/web.json").unwrap(),
            StateLocation::Local("/abs/web.json".into())
        );
        let StateLocation::S3(object) =
            parse("s3://team-state/stacks/web.json?region=eu-west-1").unwrap()
        else {
            panic!("expected S3");
        };
        assert_eq!(object.bucket, "team-state");
        assert_eq!(object.key, "stacks/web.json");
        assert_eq!(object.region.as_deref(), Some("eu-west-1"));
        assert_eq!(object.lock_key(), "stacks/web.json.lock");
        assert_eq!(
            object.history_key(7),
            "stacks/web.json.history/0000000007.json"
        );
        assert_eq!(object.journal_key(12), "stacks/web.json.journal/0000000012");
        assert_eq!(
            object.to_string(),
            "s3://team-state/stacks/web.json?region=eu-west-1"
        );
    }

    #[test]
    fn refuses_what_s3_would_refuse() {
        for (text, problem) in [
            ("s3://bucket", "no key"),
            ("s3://bucket/", "folder"),
            ("s3://bucket/dir/", "folder"),
            ("s3:///key", "empty"),
            ("s3://ab/key", "3 to 63"),
            ("s3://My_Bucket/key", "lowercase"),
            ("s3://-bucket/key", "begin and end"),
            ("s3://a..b/key", "`..`"),
            ("s3://bucket/key?versioned=1", "unknown option"),
            ("s3://bucket/key?region=", "not an AWS region"),
            ("s3://bucket/key?region=US-EAST-1", "not an AWS region"),
            ("s3://bucket/key?region=us-east-1&region=eu-west-1", "twice"),
            ("s3://bucket/web.json.lock", "lock"),
            ("s3://bucket/web.json.history/1.json", "lock"),
            ("s3:/bucket/key", "did you mean `s3://bucket/key`?"),
            ("S3:bucket/key", "did you mean `s3://bucket/key`?"),
            ("gs://bucket/key", "not a state backend"),
            ("", "empty"),
        ] {
            let found = parse(text).expect_err(text);
            assert!(found.contains(problem), "{text}: {found}");
        }
    }
}
