//! The whole slt/ corpus, MariaDB against itself: 100 % strict, nothing stale,
//! in both protocols. A failure here means a record is not deterministic or
//! was recorded wrongly.

mod common;

use common::*;

fn whole_corpus(protocol: &str) {
    let m = mysql_url();
    let out = tempdir(&format!("corpus-{protocol}")).join("report");
    let target = format!("again={m}");
    let slt = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("slt");
    let r = halocheck(&[
        "run",
        slt.to_str().unwrap(),
        "--reference",
        &m,
        "--target",
        &target,
        "--protocol",
        protocol,
        "-j",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    let rep = report(&out);
    let bad: Vec<String> = rep["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["outcome"] != "pass" && x["outcome"] != "skipped")
        .map(|x| {
            format!(
                "{}:{} {} {}",
                x["file"],
                x["line"],
                x["outcome"],
                x["diff"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert!(
        bad.is_empty(),
        "{} records did not pass:\n{}",
        bad.len(),
        bad.join("\n")
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(rep["overall"]["strict"], 100.0);
    let records = rep["records"].as_array().unwrap().len();
    let features = rep["features"].as_array().unwrap().len();
    assert!(
        records >= 1000 && features >= 50,
        "{records} records in {features} features"
    );
}

#[test]
fn the_corpus_passes_mariadb_against_itself_text() {
    whole_corpus("text");
}

#[test]
fn the_corpus_passes_mariadb_against_itself_binary() {
    whole_corpus("binary");
}
