//! Canonical form shared by the data-tier resource types: defaults filled in, set-like lists sorted,
//! and names lowercased where AWS lowercases them (ElastiCache, RDS and MemoryDB store ids in lower
//! case; comparing as written would make plans never converge).

use serde_json::{Map, Value as Json};

pub struct Canonical<'a> {
    /// Values for fields the file leaves out.
    pub defaults: &'a [(&'a str, Json)],
    /// Lists whose order carries no meaning.
    pub sets: &'a [&'a str],
    /// Fields AWS stores in lower case.
    pub lowercase: &'a [&'a str],
}

impl Canonical<'_> {
    pub fn apply(&self, config: Json) -> Json {
        let mut fields: Map<String, Json> = match config {
            Json::Object(map) => map,
            _ => Map::new(),
        };
        fields.retain(|_, v| !v.is_null());
        for (key, value) in self.defaults {
            fields
                .entry(key.to_string())
                .or_insert_with(|| value.clone());
        }
        for key in self.sets {
            if let Some(Json::Array(items)) = fields.get_mut(*key) {
                items.sort_by_key(|v| v.to_string());
                items.dedup();
            }
        }
        for key in self.lowercase {
            if let Some(Json::String(s)) = fields.get_mut(*key) {
                *s = s.to_lowercase();
            }
        }
        Json::Object(fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fills_sorts_and_lowercases() {
        let canonical = Canonical {
            defaults: &[("port", json!(6379))],
            sets: &["subnets"],
            lowercase: &["name"],
        };
        let out = canonical
            .apply(json!({ "name": "RedisClusterDemo", "subnets": ["b", "a", "b"], "gone": null }));
        assert_eq!(
            out,
            json!({ "name": "redisclusterdemo", "subnets": ["a", "b"], "port": 6379 })
        );
    }
}
