//! The floor the benchmark measures a plan loader against: the whole file read into memory,
//! then one validating serde_json pass into `serde::de::IgnoredAny`, which builds nothing. A
//! loader has to do at least this much; its peak memory is about the file's size.

use std::path::Path;

/// Reads and parses `path`, returning its size in bytes.
pub fn parse(path: &Path) -> Result<usize, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_slice::<serde::de::IgnoredAny>(&bytes)
        .map_err(|e| format!("{}: not JSON: {e}", path.display()))?;
    Ok(bytes.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_plan_parses_and_broken_json_does_not() {
        let dir = std::env::temp_dir().join(format!("hipaa-floor-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let plan = dir.join("plan.json");
        let file = std::fs::File::create(&plan).unwrap();
        crate::plan::write_plan(file, 40, 3).unwrap();
        let size = std::fs::metadata(&plan).unwrap().len() as usize;
        assert_eq!(parse(&plan), Ok(size));

        let broken = dir.join("broken.json");
        std::fs::write(&broken, "{\"format_version\": ").unwrap();
        let error = parse(&broken).unwrap_err();
        assert!(error.contains("broken.json: not JSON"), "{error}");
        assert!(parse(&dir.join("missing.json")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
