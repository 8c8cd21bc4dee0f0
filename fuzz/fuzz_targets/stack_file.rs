//! Feeds arbitrary text to the stack file parser and validator: it must report problems, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stackctl::diagnostics::Sources;
use stackctl::spec::load::parse;
use stackctl::spec::variables::VarInputs;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut sources = Sources::default();
    if let Err(diagnostics) = parse(Path::new("fuzz/stack.yaml"), text, &VarInputs::default(), &mut sources) {
        // Rendering is part of what users see: it must not panic either.
        let _ = sources.render(&diagnostics, false);
    }
});
