//! The state's journal: one line per saved step, holding only the entries that step changed, so a
//! step costs the same whether the stack has ten resources or a thousand. The document is rewritten
//! whole (compacted) at the end of a run, and whenever the journal has grown as long as the stack;
//! a reader after a crash replays the journal over the document.
//!
//! A line is a JSON object ending in a newline. A last line without its newline was being written
//! when the process died: its step was never acknowledged (the step's AWS call waits for the save),
//! so it is dropped. Lines whose serial the document already has were compacted into it.

use super::{AwsId, ResourceState, State};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The serial the state has once this record is applied.
    pub serial: u64,
    /// The state this record belongs to: a journal never applies to another lineage.
    pub lineage: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub put: BTreeMap<String, ResourceState>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<String>,
    /// The whole list, when the step changed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retained: Option<Vec<AwsId>>,
}

impl Record {
    /// One line of the journal.
    pub fn encode(&self) -> Vec<u8> {
        let mut line = serde_json::to_vec(self).unwrap_or_default();
        line.push(b'\n');
        line
    }

    /// Applies the record to `state`, whose serial it follows.
    pub fn apply_to(self, state: &mut State) {
        for (name, entry) in self.put {
            state.resources.insert(name, entry);
        }
        for name in &self.remove {
            state.resources.remove(name);
        }
        if let Some(retained) = self.retained {
            state.retained = retained;
        }
        state.serial = self.serial;
    }
}

/// Why a journal cannot be replayed.
#[derive(Debug, PartialEq)]
pub struct ReplayError {
    pub line: usize,
    pub message: String,
}

/// Replays `journal` over `state` (the document as stored), returning how many records applied.
pub fn replay(state: &mut State, journal: &[u8]) -> Result<usize, ReplayError> {
    let mut applied = 0;
    let complete = match journal.iter().rposition(|&b| b == b'\n') {
        Some(end) => &journal[..=end],
        None => &[][..],
    };
    for (index, line) in complete.split(|&b| b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let error = |message: String| ReplayError {
            line: index + 1,
            message,
        };
        let record: Record = serde_json::from_slice(line).map_err(|e| error(e.to_string()))?;
        if record.lineage != state.lineage {
            return Err(error(format!(
                "it belongs to the state of lineage {}, not {}",
                record.lineage, state.lineage
            )));
        }
        if record.serial <= state.serial {
            continue;
        }
        if record.serial != state.serial + 1 {
            return Err(error(format!(
                "it records serial {} right after serial {}: steps are missing",
                record.serial, state.serial
            )));
        }
        record.apply_to(state);
        applied += 1;
    }
    state.resources.take_changed();
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Status;

    fn entry(id: &str) -> ResourceState {
        serde_json::from_value(serde_json::json!({
            "type": "security-group", "status": "created", "id": id,
            "updated_at": "2026-01-01T00:00:00Z"
        }))
        .unwrap()
    }

    fn record(state: &State, serial: u64) -> Record {
        Record {
            serial,
            lineage: state.lineage.clone(),
            put: BTreeMap::new(),
            remove: Vec::new(),
            retained: None,
        }
    }

    #[test]
    fn replays_puts_and_removals_in_order_and_skips_what_was_compacted() {
        let mut state = State::new("demo", "us-east-1");
        state.serial = 4;
        let mut old = record(&state, 4);
        old.put.insert("stale".into(), entry("sg-0"));
        let mut first = record(&state, 5);
        first.put.insert("a".into(), entry("sg-1"));
        first.put.insert("b".into(), entry("sg-2"));
        let mut second = record(&state, 6);
        second.remove.push("a".into());
        let mut changed = entry("sg-2");
        changed.status = Status::Deleting;
        second.put.insert("b".into(), changed.clone());
        let journal = [old.encode(), first.encode(), second.encode()].concat();
        assert_eq!(replay(&mut state, &journal), Ok(2));
        assert_eq!(state.serial, 6);
        assert_eq!(state.resources.keys().collect::<Vec<_>>(), ["b"]);
        assert_eq!(state.resources["b"], changed);
    }

    #[test]
    fn a_torn_last_line_was_never_acknowledged_and_is_dropped() {
        let mut state = State::new("demo", "us-east-1");
        let mut first = record(&state, 1);
        first.put.insert("a".into(), entry("sg-1"));
        let mut torn = record(&state, 2).encode();
        torn.truncate(torn.len() / 2);
        let journal = [first.encode(), torn].concat();
        assert_eq!(replay(&mut state, &journal), Ok(1));
        assert_eq!(state.serial, 1);
    }

    #[test]
    fn a_gap_or_another_lineage_is_refused() {
        let mut state = State::new("demo", "us-east-1");
        let gap = record(&state, 3).encode();
        assert_eq!(replay(&mut state.clone(), &gap).unwrap_err().line, 1);
        let mut other = record(&state, 1);
        other.lineage = "another".into();
        let error = replay(&mut state, &other.encode()).unwrap_err();
        assert!(error.message.contains("lineage"), "{error:?}");
    }
}
