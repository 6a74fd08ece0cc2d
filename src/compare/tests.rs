use super::*;

use md5::{Digest, Md5};
use sqllogictest::{DefaultColumnType, ExpectedError, Record, StatementExpect};

use TypeCategory::{Decimal, Integer, Text, Unknown};

// ---------------------------------------------------------------- helpers

fn column(name: &str, category: TypeCategory) -> Column {
    Column {
        name: name.to_string(),
        type_name: format!("{category:?}"),
        category,
    }
}

fn data(d: &[&[Option<&str>]]) -> Rows {
    d.iter()
        .map(|row| row.iter().map(|v| v.map(str::to_string)).collect())
        .collect()
}

fn rows(cols: &[(&str, TypeCategory)], d: &[&[Option<&str>]]) -> Observed {
    Observed::Rows {
        columns: cols.iter().map(|(n, c)| column(n, *c)).collect(),
        rows: data(d),
    }
}

/// One column named `c` of the given category.
fn single(category: TypeCategory, values: &[Option<&str>]) -> Observed {
    let d: Vec<&[Option<&str>]> = values.iter().map(std::slice::from_ref).collect();
    rows(&[("c", category)], &d)
}

/// One text column of non-NULL values.
fn texts(values: &[&str]) -> Observed {
    let v: Vec<Option<&str>> = values.iter().map(|s| Some(*s)).collect();
    single(Text, &v)
}

fn done(affected_rows: u64) -> Observed {
    Observed::Done { affected_rows }
}

fn mysql_error(code: u16, sqlstate: &str) -> Observed {
    Observed::Error {
        code: Some(code),
        sqlstate: Some(sqlstate.to_string()),
        message: format!("error {code}"),
    }
}

fn pg_error(sqlstate: &str, message: &str) -> Observed {
    Observed::Error {
        code: None,
        sqlstate: Some(sqlstate.to_string()),
        message: message.to_string(),
    }
}

fn lost() -> Observed {
    Observed::ConnectionLost {
        message: "server closed the connection".to_string(),
    }
}

fn ctx() -> CompareContext {
    CompareContext::default()
}

fn ctx_sorted(sort: SortMode) -> CompareContext {
    CompareContext {
        sort,
        ..CompareContext::default()
    }
}

fn cmp(reference: &Observed, target: &Observed) -> Outcome {
    compare(reference, target, &ctx())
}

fn div(kind: DivergenceKind) -> Outcome {
    Outcome::Divergent(kind)
}

fn expect_lines(lines: &[&str]) -> Expectation {
    Expectation::Rows {
        types: "I".to_string(),
        sort: None,
        label: None,
        results: lines.iter().map(|l| l.to_string()).collect(),
    }
}

fn expect_lines_sorted(lines: &[&str], sort: SortMode) -> Expectation {
    Expectation::Rows {
        types: "I".to_string(),
        sort: Some(sort),
        label: None,
        results: lines.iter().map(|l| l.to_string()).collect(),
    }
}

fn check(expect: &Expectation, obs: &Observed) -> Outcome {
    check_expectation(expect, obs, &ctx())
}

fn md5_hex(text: &str) -> String {
    Md5::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The error expectation the crate's parser makes of `statement error <rest>`.
fn parsed_error(rest: &str) -> ExpectedError {
    let script = format!("statement error {rest}\nSELECT 1\n");
    let records = sqllogictest::parse::<DefaultColumnType>(&script).expect("valid script");
    records
        .into_iter()
        .find_map(|r| match r {
            Record::Statement {
                expected: StatementExpect::Error(e),
                ..
            } => Some(e),
            _ => None,
        })
        .expect("a statement error record")
}

fn one_result(lines: &[String]) -> &str {
    assert_eq!(lines.len(), 1, "{lines:?}");
    &lines[0]
}

// ------------------------------------------------ compare: values & format

#[test]
fn identical_rows_pass() {
    let a = rows(&[("a", Integer), ("b", Text)], &[&[Some("1"), Some("x")]]);
    assert_eq!(cmp(&a, &a.clone()), Outcome::Pass);
}

#[test]
fn null_differs_from_the_string_null() {
    let reference = single(Text, &[None]);
    let target = single(Text, &[Some("NULL")]);
    assert_eq!(cmp(&reference, &target), div(DivergenceKind::Values));
    assert_eq!(cmp(&target, &reference), div(DivergenceKind::Values));
}

#[test]
fn null_differs_from_the_empty_string() {
    let reference = single(Text, &[Some("")]);
    let target = single(Text, &[None]);
    assert_eq!(cmp(&reference, &target), div(DivergenceKind::Values));
}

#[test]
fn decimal_spelling_is_format() {
    let reference = single(Decimal, &[Some("1.875000")]);
    let target = single(Decimal, &[Some("1.8750000000000000")]);
    assert_eq!(cmp(&reference, &target), div(DivergenceKind::Format));
}

#[test]
fn truncated_decimal_is_values() {
    let reference = single(Decimal, &[Some("0.3333")]);
    let target = single(Decimal, &[Some("0")]);
    assert_eq!(cmp(&reference, &target), div(DivergenceKind::Values));
}

#[test]
fn one_differing_value_makes_the_whole_result_values() {
    let reference = rows(
        &[("a", Decimal), ("b", Text)],
        &[&[Some("1.50"), Some("x")], &[Some("2.0"), Some("y")]],
    );
    let target = rows(
        &[("a", Decimal), ("b", Text)],
        &[&[Some("1.5"), Some("x")], &[Some("2"), Some("z")]],
    );
    assert_eq!(cmp(&reference, &target), div(DivergenceKind::Values));
}

#[test]
fn trailing_spaces_are_significant() {
    assert_eq!(
        cmp(&texts(&["abc"]), &texts(&["abc "])),
        div(DivergenceKind::Values)
    );
    assert_eq!(
        cmp(&texts(&[" abc"]), &texts(&["abc"])),
        div(DivergenceKind::Values)
    );
}

#[test]
fn letter_case_in_strings_is_values() {
    assert_eq!(
        cmp(&texts(&["abc"]), &texts(&["ABC"])),
        div(DivergenceKind::Values)
    );
}

#[test]
fn boolean_spelling_is_format() {
    let reference = single(Integer, &[Some("1"), Some("0")]);
    let target = single(Integer, &[Some("t"), Some("f")]);
    assert_eq!(cmp(&reference, &target), div(DivergenceKind::Format));
}

#[test]
fn opposite_booleans_are_values() {
    let reference = single(Integer, &[Some("1")]);
    let target = single(Integer, &[Some("f")]);
    assert_eq!(cmp(&reference, &target), div(DivergenceKind::Values));
}

#[test]
fn datetime_fraction_is_format() {
    let reference = texts(&["2024-01-02 03:04:05"]);
    let target = texts(&["2024-01-02 03:04:05.000000"]);
    assert_eq!(cmp(&reference, &target), div(DivergenceKind::Format));
}

#[test]
fn different_datetime_is_values() {
    let reference = texts(&["2024-01-02 03:04:05"]);
    let target = texts(&["2024-01-02 03:04:06.000000"]);
    assert_eq!(cmp(&reference, &target), div(DivergenceKind::Values));
}

#[test]
fn exponent_spelling_is_format() {
    let reference = texts(&["1e20"]);
    let target = texts(&["100000000000000000000"]);
    assert_eq!(cmp(&reference, &target), div(DivergenceKind::Format));
}

#[test]
fn non_ascii_text_near_a_date_shape_does_not_panic() {
    // Byte 10 falls inside `é`; the date/time check must not slice there.
    let reference = texts(&["2024-01-0é"]);
    let target = texts(&["2024-01-0e"]);
    assert_eq!(cmp(&reference, &target), div(DivergenceKind::Values));
    assert!(!format_equal("2024-01-0é", "2024-01-09"));
}

// ------------------------------------------------------------ format_equal

#[test]
fn format_equal_numbers() {
    assert!(format_equal("-1.50", "-1.5"));
    assert!(format_equal("007", "7"));
    assert!(format_equal("-0", "0"));
    assert!(format_equal("-0.000", "0"));
    assert!(format_equal("+2", "2.0"));
    assert!(format_equal(".5", "0.50"));
    assert!(format_equal("1.5e0", "1.5"));
    assert!(!format_equal("-1.5", "1.5"));
    assert!(!format_equal("10", "1"));
    assert!(!format_equal("0.1", "0.10000000000000001"));
}

#[test]
fn format_equal_rejects_non_numbers() {
    assert!(!format_equal("abc", "ABC"));
    assert!(!format_equal("-", "0"));
    assert!(!format_equal(".", "0"));
    assert!(!format_equal("1a", "1"));
    assert!(!format_equal("NaN", "nan"));
    assert!(!format_equal("inf", "infinity"));
    assert!(!format_equal("", "0"));
    assert!(format_equal("same", "same"));
}

#[test]
fn format_equal_booleans_and_dates() {
    assert!(format_equal("1", "true"));
    assert!(format_equal("0", "F"));
    assert!(!format_equal("2", "t"));
    assert!(format_equal("2024-01-02", "2024-01-02 00:00:00"));
    assert!(format_equal(
        "2024-01-02T03:04:05.5",
        "2024-01-02 03:04:05.500"
    ));
    assert!(!format_equal(
        "2024-01-02 03:04:05+00",
        "2024-01-02 03:04:05"
    ));
    assert!(!format_equal("2024-01-02", "2024-01-03"));
}

// ------------------------------------------------ compare: shape & columns

#[test]
fn column_label_difference_with_equal_values() {
    let reference = rows(&[("count(*)", Integer)], &[&[Some("3")]]);
    let target = rows(&[("count", Integer)], &[&[Some("3")]]);
    assert_eq!(cmp(&reference, &target), div(DivergenceKind::ColumnNames));
}

#[test]
fn value_difference_wins_over_column_names() {
    let reference = rows(&[("count(*)", Integer)], &[&[Some("3")]]);
    let target = rows(&[("count", Integer)], &[&[Some("4")]]);
    assert_eq!(cmp(&reference, &target), div(DivergenceKind::Values));
}

#[test]
fn column_type_difference_with_equal_values() {
    let reference = rows(&[("a", Integer)], &[&[Some("3")]]);
    let target = rows(&[("a", Text)], &[&[Some("3")]]);
    assert_eq!(cmp(&reference, &target), div(DivergenceKind::ColumnTypes));
}

#[test]
fn column_names_are_reported_before_column_types() {
    let reference = rows(&[("a", Integer)], &[&[Some("3")]]);
    let target = rows(&[("b", Text)], &[&[Some("3")]]);
    assert_eq!(cmp(&reference, &target), div(DivergenceKind::ColumnNames));
}

#[test]
fn unknown_or_null_category_never_causes_column_types() {
    let known = rows(&[("a", Integer)], &[&[Some("3")]]);
    let unknown = rows(&[("a", Unknown)], &[&[Some("3")]]);
    let null = rows(&[("a", TypeCategory::Null)], &[&[Some("3")]]);
    assert_eq!(cmp(&known, &unknown), Outcome::Pass);
    assert_eq!(cmp(&unknown, &known), Outcome::Pass);
    assert_eq!(cmp(&null, &known), Outcome::Pass);
}

#[test]
fn order_difference_without_sort() {
    let reference = single(Integer, &[Some("1"), Some("2")]);
    let target = single(Integer, &[Some("2"), Some("1")]);
    assert_eq!(cmp(&reference, &target), div(DivergenceKind::Order));
}

#[test]
fn order_difference_passes_with_rowsort() {
    let reference = rows(
        &[("a", Integer), ("b", Text)],
        &[&[Some("1"), Some("x")], &[Some("2"), None]],
    );
    let target = rows(
        &[("a", Integer), ("b", Text)],
        &[&[Some("2"), None], &[Some("1"), Some("x")]],
    );
    assert_eq!(
        compare(&reference, &target, &ctx_sorted(SortMode::RowSort)),
        Outcome::Pass
    );
}

#[test]
fn order_difference_passes_with_valuesort() {
    let reference = rows(
        &[("a", Integer), ("b", Integer)],
        &[&[Some("1"), Some("4")], &[Some("3"), Some("2")]],
    );
    let target = rows(
        &[("a", Integer), ("b", Integer)],
        &[&[Some("2"), Some("1")], &[Some("4"), Some("3")]],
    );
    assert_eq!(
        compare(&reference, &target, &ctx_sorted(SortMode::ValueSort)),
        Outcome::Pass
    );
    // The same rows are not equal row by row.
    assert_eq!(
        compare(&reference, &target, &ctx_sorted(SortMode::RowSort)),
        div(DivergenceKind::Values)
    );
}

#[test]
fn different_row_counts() {
    let reference = single(Integer, &[Some("1"), Some("2")]);
    let target = single(Integer, &[Some("1")]);
    assert_eq!(cmp(&reference, &target), div(DivergenceKind::RowCount));
    assert_eq!(
        compare(&reference, &target, &ctx_sorted(SortMode::ValueSort)),
        div(DivergenceKind::RowCount)
    );
}

#[test]
fn different_column_counts_are_values() {
    let reference = rows(&[("a", Integer)], &[&[Some("1")]]);
    let target = rows(
        &[("a", Integer), ("b", Integer)],
        &[&[Some("1"), Some("2")]],
    );
    assert_eq!(cmp(&reference, &target), div(DivergenceKind::Values));
}

#[test]
fn empty_results_with_equal_columns_pass() {
    let a = rows(&[("a", Integer)], &[]);
    assert_eq!(cmp(&a, &a.clone()), Outcome::Pass);
}

#[test]
fn rows_versus_done_is_values() {
    let r = single(Integer, &[Some("1")]);
    assert_eq!(cmp(&r, &done(0)), div(DivergenceKind::Values));
    assert_eq!(cmp(&done(0), &r), div(DivergenceKind::Values));
}

// ------------------------------------------------------- compare: errors

#[test]
fn same_mysql_error_code_passes() {
    let reference = mysql_error(1146, "42S02");
    let target = Observed::Error {
        code: Some(1146),
        sqlstate: Some("HY000".to_string()),
        message: "a different wording".to_string(),
    };
    assert_eq!(cmp(&reference, &target), Outcome::Pass);
}

#[test]
fn different_mysql_error_codes_mismatch() {
    let reference = mysql_error(1146, "42S02");
    let target = mysql_error(1064, "42000");
    assert_eq!(cmp(&reference, &target), Outcome::ErrorMismatch);
}

#[test]
fn postgres_errors_are_compared_by_sqlstate() {
    let a = pg_error("42P01", "relation \"t\" does not exist");
    let b = pg_error("42P01", "relation \"u\" does not exist");
    let c = pg_error("42601", "syntax error");
    assert_eq!(cmp(&a, &b), Outcome::Pass);
    assert_eq!(cmp(&a, &c), Outcome::ErrorMismatch);
}

#[test]
fn mysql_code_against_missing_code_mismatches() {
    let reference = mysql_error(1146, "42S02");
    let target = pg_error("42S02", "no such table");
    assert_eq!(cmp(&reference, &target), Outcome::ErrorMismatch);
}

#[test]
fn reference_error_target_ok_is_extra_accept() {
    let reference = mysql_error(1064, "42000");
    assert_eq!(cmp(&reference, &done(0)), Outcome::ExtraAccept);
    assert_eq!(
        cmp(&reference, &single(Integer, &[Some("1")])),
        Outcome::ExtraAccept
    );
}

#[test]
fn reference_ok_target_error_is_unsupported() {
    let target = mysql_error(1064, "42000");
    assert_eq!(cmp(&done(1), &target), Outcome::Unsupported);
    assert_eq!(
        cmp(&single(Integer, &[Some("1")]), &target),
        Outcome::Unsupported
    );
}

// ------------------------------------------------- compare: statements etc.

#[test]
fn affected_rows_compared_only_when_asked() {
    assert_eq!(cmp(&done(2), &done(3)), div(DivergenceKind::AffectedRows));
    assert_eq!(cmp(&done(2), &done(2)), Outcome::Pass);
    let lenient = CompareContext {
        compare_affected: false,
        ..CompareContext::default()
    };
    assert_eq!(compare(&done(2), &done(3), &lenient), Outcome::Pass);
}

#[test]
fn timeout_on_either_side() {
    let r = single(Integer, &[Some("1")]);
    assert_eq!(cmp(&Observed::Timeout, &r), Outcome::Timeout);
    assert_eq!(cmp(&r, &Observed::Timeout), Outcome::Timeout);
    assert_eq!(
        cmp(&mysql_error(1064, "42000"), &Observed::Timeout),
        Outcome::Timeout
    );
}

#[test]
fn connection_lost_on_either_side() {
    let r = single(Integer, &[Some("1")]);
    assert_eq!(cmp(&lost(), &r), Outcome::ConnectionLost);
    assert_eq!(cmp(&r, &lost()), Outcome::ConnectionLost);
    assert_eq!(
        cmp(&lost(), &mysql_error(1064, "42000")),
        Outcome::ConnectionLost
    );
    // A timeout is the more specific report.
    assert_eq!(cmp(&lost(), &Observed::Timeout), Outcome::Timeout);
}

// ------------------------------------------------------ check_expectation

#[test]
fn statement_ok_and_count() {
    assert_eq!(check(&Expectation::Ok, &done(5)), Outcome::Pass);
    assert_eq!(check(&Expectation::Count(5), &done(5)), Outcome::Pass);
    assert_eq!(
        check(&Expectation::Count(4), &done(5)),
        div(DivergenceKind::AffectedRows)
    );
    let two = single(Integer, &[Some("1"), Some("2")]);
    assert_eq!(check(&Expectation::Count(2), &two), Outcome::Pass);
    assert_eq!(
        check(&Expectation::Count(3), &two),
        div(DivergenceKind::RowCount)
    );
}

#[test]
fn expectation_against_timeout_and_lost_connection() {
    assert_eq!(
        check(&Expectation::Ok, &Observed::Timeout),
        Outcome::Timeout
    );
    assert_eq!(
        check(
            &Expectation::Error(ErrorExpectation::Codes(vec![1062])),
            &lost()
        ),
        Outcome::ConnectionLost
    );
}

#[test]
fn expected_ok_but_error_is_unsupported() {
    assert_eq!(
        check(&Expectation::Ok, &mysql_error(1064, "42000")),
        Outcome::Unsupported
    );
    assert_eq!(
        check(&expect_lines(&["1"]), &mysql_error(1064, "42000")),
        Outcome::Unsupported
    );
}

#[test]
fn expected_error_codes_list() {
    let e = Expectation::Error(ErrorExpectation::Codes(vec![1062, 1586]));
    assert_eq!(check(&e, &mysql_error(1062, "23000")), Outcome::Pass);
    assert_eq!(check(&e, &mysql_error(1586, "23000")), Outcome::Pass);
    assert_eq!(
        check(&e, &mysql_error(1146, "42S02")),
        Outcome::ErrorMismatch
    );
    assert_eq!(check(&e, &pg_error("23505", "dup")), Outcome::ErrorMismatch);
    assert_eq!(check(&e, &done(1)), Outcome::ExtraAccept);
}

#[test]
fn expected_error_regex() {
    let e = Expectation::Error(ErrorExpectation::Other(parsed_error("Duplicate entry")));
    let dup = Observed::Error {
        code: Some(1062),
        sqlstate: Some("23000".to_string()),
        message: "Duplicate entry '1' for key 'PRIMARY'".to_string(),
    };
    let other = Observed::Error {
        code: Some(1146),
        sqlstate: Some("42S02".to_string()),
        message: "Table 't' doesn't exist".to_string(),
    };
    assert_eq!(check(&e, &dup), Outcome::Pass);
    assert_eq!(check(&e, &other), Outcome::ErrorMismatch);
    assert_eq!(check(&e, &single(Integer, &[])), Outcome::ExtraAccept);
}

#[test]
fn expected_sqlstate() {
    let e = Expectation::Error(ErrorExpectation::Other(ExpectedError::SqlState(
        "42S02".to_string(),
    )));
    assert_eq!(check(&e, &mysql_error(1146, "42S02")), Outcome::Pass);
    assert_eq!(
        check(&e, &pg_error("42S02", "no such table")),
        Outcome::Pass
    );
    assert_eq!(
        check(&e, &mysql_error(1064, "42000")),
        Outcome::ErrorMismatch
    );
    // The parser reads `error (42S02)` as the same expectation.
    assert_eq!(
        parsed_error("(42S02)"),
        ExpectedError::SqlState("42S02".into())
    );
}

#[test]
fn rowwise_lines_pass() {
    let obs = rows(
        &[("a", Integer), ("b", Text)],
        &[&[Some("1"), Some("one")], &[Some("2"), None]],
    );
    assert_eq!(
        check(&expect_lines(&["1 one", "2 NULL"]), &obs),
        Outcome::Pass
    );
    // Extra blanks in the file do not matter.
    assert_eq!(
        check(&expect_lines(&["1   one", " 2 NULL "]), &obs),
        Outcome::Pass
    );
}

#[test]
fn valuewise_lines_for_multi_column_result_pass() {
    let obs = rows(
        &[("a", Integer), ("b", Text)],
        &[&[Some("1"), Some("one")], &[Some("2"), Some("two")]],
    );
    assert_eq!(
        check(&expect_lines(&["1", "one", "2", "two"]), &obs),
        Outcome::Pass
    );
    assert_eq!(
        check(&expect_lines(&["1", "one", "2", "three"]), &obs),
        div(DivergenceKind::Values)
    );
}

#[test]
fn valuewise_context_applies_to_single_column_too() {
    let obs = single(Integer, &[Some("1"), Some("2")]);
    let c = CompareContext {
        result_mode: ResultMode::ValueWise,
        ..CompareContext::default()
    };
    assert_eq!(
        check_expectation(&expect_lines(&["1", "2"]), &obs, &c),
        Outcome::Pass
    );
}

#[test]
fn lines_with_wrong_count() {
    let obs = single(Integer, &[Some("1"), Some("2")]);
    assert_eq!(
        check(&expect_lines(&["1", "2", "3"]), &obs),
        div(DivergenceKind::RowCount)
    );
    assert_eq!(
        check(&expect_lines(&["1"]), &done(0)),
        div(DivergenceKind::RowCount)
    );
    assert_eq!(check(&expect_lines(&[]), &done(0)), Outcome::Pass);
}

#[test]
fn lines_with_format_difference() {
    let obs = rows(
        &[("a", Decimal), ("b", Integer)],
        &[&[Some("1.8750000000000000"), Some("t")]],
    );
    assert_eq!(
        check(&expect_lines(&["1.875000 1"]), &obs),
        div(DivergenceKind::Format)
    );
    assert_eq!(
        check(&expect_lines(&["1.875001 1"]), &obs),
        div(DivergenceKind::Values)
    );
}

#[test]
fn lines_with_order_difference() {
    let obs = single(Integer, &[Some("2"), Some("1")]);
    assert_eq!(
        check(&expect_lines(&["1", "2"]), &obs),
        div(DivergenceKind::Order)
    );
    assert_eq!(
        check(&expect_lines_sorted(&["1", "2"], SortMode::RowSort), &obs),
        Outcome::Pass
    );
    assert_eq!(
        check_expectation(
            &expect_lines(&["1", "2"]),
            &obs,
            &ctx_sorted(SortMode::RowSort)
        ),
        Outcome::Pass
    );
}

#[test]
fn lines_with_valuesort() {
    let obs = rows(
        &[("a", Integer), ("b", Integer)],
        &[&[Some("3"), Some("1")], &[Some("4"), Some("2")]],
    );
    assert_eq!(
        check(
            &expect_lines_sorted(&["1", "2", "3", "4"], SortMode::ValueSort),
            &obs
        ),
        Outcome::Pass
    );
}

#[test]
fn lines_spell_null_and_empty_string() {
    let obs = single(Text, &[None, Some(""), Some("NULL")]);
    assert_eq!(
        check(&expect_lines(&["NULL", "(empty)", "\\NULL"]), &obs),
        Outcome::Pass
    );
    // The file's NULL is SQL NULL, not the string.
    assert_eq!(
        check(&expect_lines(&["NULL"]), &texts(&["NULL"])),
        div(DivergenceKind::Values)
    );
    assert_eq!(
        check(&expect_lines(&["(empty)"]), &single(Text, &[None])),
        div(DivergenceKind::Values)
    );
}

#[test]
fn hash_line_matches() {
    let obs = single(Integer, &[Some("1"), Some("2")]);
    let (n, hash) = hash_line(&data(&[&[Some("1")], &[Some("2")]]), SortMode::NoSort);
    assert_eq!(n, 2);
    assert_eq!(hash, md5_hex("1\n2\n"));
    assert_eq!(hash, "6ddb4095eb719e2a9f0a3f95677d24e0");
    let line = format!("{n} values hashing to {hash}");
    assert_eq!(check(&expect_lines(&[&line]), &obs), Outcome::Pass);
    // Upper-case hex is accepted too.
    let upper = format!("2 values hashing to {}", hash.to_ascii_uppercase());
    assert_eq!(check(&expect_lines(&[&upper]), &obs), Outcome::Pass);
}

#[test]
fn hash_line_with_wrong_hash_is_values() {
    let obs = single(Integer, &[Some("1"), Some("3")]);
    assert_eq!(
        check(
            &expect_lines(&["2 values hashing to 6ddb4095eb719e2a9f0a3f95677d24e0"]),
            &obs
        ),
        div(DivergenceKind::Values)
    );
}

#[test]
fn hash_line_with_wrong_count_is_row_count() {
    let obs = single(Integer, &[Some("1"), Some("2"), Some("3")]);
    assert_eq!(
        check(
            &expect_lines(&["2 values hashing to 6ddb4095eb719e2a9f0a3f95677d24e0"]),
            &obs
        ),
        div(DivergenceKind::RowCount)
    );
}

#[test]
fn hash_line_respects_sort_mode() {
    let obs = single(Integer, &[Some("2"), Some("1")]);
    let line = ["2 values hashing to 6ddb4095eb719e2a9f0a3f95677d24e0"];
    assert_eq!(
        check(&expect_lines(&line), &obs),
        div(DivergenceKind::Values)
    );
    assert_eq!(
        check(&expect_lines_sorted(&line, SortMode::RowSort), &obs),
        Outcome::Pass
    );
}

// ---------------------------------------------------------------- render

#[test]
fn render_value_spellings() {
    assert_eq!(render::render_value(None), "NULL");
    assert_eq!(render::render_value(Some("")), "(empty)");
    assert_eq!(render::render_value(Some("NULL")), "\\NULL");
    assert_eq!(render::render_value(Some("(empty)")), "\\(empty)");
    assert_eq!(render::render_value(Some("a\nb\r")), "a\\nb\\r");
    assert_eq!(render::render_value(Some("a\\nb")), "a\\\\nb");
    assert_eq!(render::render_value(Some("plain text")), "plain text");
}

#[test]
fn render_lines_rowwise_and_valuewise() {
    let r = data(&[&[Some("1"), None], &[Some("2"), Some("")]]);
    assert_eq!(
        render_lines(&r, SortMode::NoSort, ResultMode::RowWise, 0),
        vec!["1 NULL", "2 (empty)"]
    );
    assert_eq!(
        render_lines(&r, SortMode::NoSort, ResultMode::ValueWise, 0),
        vec!["1", "NULL", "2", "(empty)"]
    );
}

#[test]
fn render_lines_rowsort_and_valuesort() {
    let r = data(&[&[Some("b"), Some("1")], &[Some("a"), Some("2")]]);
    assert_eq!(
        render_lines(&r, SortMode::RowSort, ResultMode::RowWise, 0),
        vec!["a 2", "b 1"]
    );
    assert_eq!(
        render_lines(&r, SortMode::ValueSort, ResultMode::RowWise, 0),
        vec!["1", "2", "a", "b"]
    );
}

#[test]
fn render_lines_switches_to_hash_above_threshold() {
    let r = data(&[&[Some("1")], &[Some("2")]]);
    // At the threshold: still the values.
    assert_eq!(
        render_lines(&r, SortMode::NoSort, ResultMode::RowWise, 2),
        vec!["1", "2"]
    );
    let hashed = render_lines(&r, SortMode::NoSort, ResultMode::RowWise, 1);
    assert_eq!(
        one_result(&hashed),
        "2 values hashing to 6ddb4095eb719e2a9f0a3f95677d24e0"
    );
}

#[test]
fn hash_of_special_values_uses_file_spelling() {
    let (n, hash) = hash_line(&data(&[&[None, Some("")]]), SortMode::NoSort);
    assert_eq!(n, 2);
    assert_eq!(hash, md5_hex("NULL\n(empty)\n"));
    let (n, hash) = hash_line(&[], SortMode::NoSort);
    assert_eq!((n, hash.as_str()), (0, "d41d8cd98f00b204e9800998ecf8427e"));
}

#[test]
fn parse_hash_line_accepts_valid() {
    assert_eq!(
        parse_hash_line("3 values hashing to 6DDB4095EB719E2A9F0A3F95677D24E0"),
        Some((3, "6ddb4095eb719e2a9f0a3f95677d24e0".to_string()))
    );
    assert_eq!(
        parse_hash_line("  12  values hashing to d41d8cd98f00b204e9800998ecf8427e "),
        Some((12, "d41d8cd98f00b204e9800998ecf8427e".to_string()))
    );
}

#[test]
fn parse_hash_line_rejects_malformed() {
    let h = "d41d8cd98f00b204e9800998ecf8427e";
    for line in [
        format!("x values hashing to {h}"),
        format!("-1 values hashing to {h}"),
        format!("3 value hashing to {h}"),
        format!("3 values hashed to {h}"),
        "3 values hashing to".to_string(),
        "3 values hashing to xyz".to_string(),
        "3 values hashing to abc".to_string(),
        format!("3 values hashing to {h}0"),
        format!("3 values hashing to {h} extra"),
        "1 2 3".to_string(),
        String::new(),
    ] {
        assert_eq!(parse_hash_line(&line), None, "{line:?}");
    }
}

// ---------------------------------------------------- expectation_from

#[test]
fn record_error_with_code() {
    let e = expectation_from(&mysql_error(1146, "42S02"), false, &Expectation::Ok, &ctx());
    assert!(
        matches!(&e, Some(Expectation::Error(ErrorExpectation::Codes(c))) if c == &vec![1146]),
        "{e:?}"
    );
}

#[test]
fn record_postgres_error_by_sqlstate() {
    let obs = pg_error("42P01", "relation \"t\" does not exist");
    let e = expectation_from(&obs, true, &Expectation::Ok, &ctx()).expect("an expectation");
    assert!(
        matches!(&e, Expectation::Error(ErrorExpectation::Other(ExpectedError::SqlState(s))) if s == "42P01"),
        "{e:?}"
    );
    // What is recorded must accept what it was recorded from.
    assert_eq!(check(&e, &obs), Outcome::Pass);
    assert_eq!(
        check(&e, &pg_error("42601", "syntax error")),
        Outcome::ErrorMismatch
    );
}

#[test]
fn record_error_without_code_or_sqlstate_by_message() {
    let obs = Observed::Error {
        code: None,
        sqlstate: None,
        message: "weird (failure) [x]".to_string(),
    };
    let e = expectation_from(&obs, false, &Expectation::Ok, &ctx()).expect("an expectation");
    assert!(matches!(&e, Expectation::Error(ErrorExpectation::Other(_))));
    assert_eq!(check(&e, &obs), Outcome::Pass);
}

#[test]
fn record_nothing_for_timeout_or_lost_connection() {
    assert!(expectation_from(&Observed::Timeout, true, &Expectation::Ok, &ctx()).is_none());
    assert!(expectation_from(&lost(), false, &Expectation::Ok, &ctx()).is_none());
}

#[test]
fn record_statement_done() {
    let e = expectation_from(&done(3), false, &Expectation::Ok, &ctx());
    assert!(matches!(e, Some(Expectation::Ok)), "{e:?}");
    let e = expectation_from(&done(3), false, &Expectation::Count(7), &ctx());
    assert!(matches!(e, Some(Expectation::Count(3))), "{e:?}");
    let old_error = Expectation::Error(ErrorExpectation::Codes(vec![1062]));
    let e = expectation_from(&done(3), false, &old_error, &ctx());
    assert!(matches!(e, Some(Expectation::Ok)), "{e:?}");
}

#[test]
fn record_query_rows() {
    let obs = rows(
        &[("a", Integer), ("b", Decimal), ("c", Text), ("d", Unknown)],
        &[
            &[Some("1"), Some("1.5"), Some(""), None],
            &[Some("2"), Some("2.5"), Some("x y"), Some("NULL")],
        ],
    );
    let e = expectation_from(&obs, true, &expect_lines(&["stale"]), &ctx()).expect("rows");
    let Expectation::Rows {
        types,
        sort,
        label,
        results,
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!(types, "IRTT");
    assert_eq!(*sort, None);
    assert_eq!(*label, None);
    assert_eq!(results, &["1 1.5 (empty) NULL", "2 2.5 x y \\NULL"]);
    assert_eq!(check(&e, &obs), Outcome::Pass);
}

#[test]
fn record_query_keeps_sort_mode_and_label() {
    let old = Expectation::Rows {
        types: "T".to_string(),
        sort: Some(SortMode::RowSort),
        label: Some("q1".to_string()),
        results: vec!["old".to_string()],
    };
    let obs = single(Integer, &[Some("2"), Some("1")]);
    let e = expectation_from(&obs, true, &old, &ctx()).expect("rows");
    let Expectation::Rows {
        types,
        sort,
        label,
        results,
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!(types, "I");
    assert_eq!(*sort, Some(SortMode::RowSort));
    assert_eq!(label.as_deref(), Some("q1"));
    assert_eq!(results, &["1", "2"]);
}

#[test]
fn record_query_uses_hash_threshold() {
    let obs = single(Integer, &[Some("1"), Some("2")]);
    let c = CompareContext {
        hash_threshold: 1,
        ..CompareContext::default()
    };
    let e = expectation_from(&obs, true, &Expectation::Ok, &c).expect("rows");
    let Expectation::Rows { results, .. } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(
        one_result(results),
        "2 values hashing to 6ddb4095eb719e2a9f0a3f95677d24e0"
    );
    assert_eq!(check_expectation(&e, &obs, &c), Outcome::Pass);
}

#[test]
fn record_query_without_result_set_keeps_old_types() {
    let old = Expectation::Rows {
        types: "IT".to_string(),
        sort: None,
        label: None,
        results: vec!["1 x".to_string()],
    };
    let e = expectation_from(&done(0), true, &old, &ctx()).expect("rows");
    assert!(
        matches!(&e, Expectation::Rows { types, results, .. } if types == "IT" && results.is_empty()),
        "{e:?}"
    );
    let e = expectation_from(&done(0), true, &Expectation::Ok, &ctx()).expect("rows");
    assert!(
        matches!(&e, Expectation::Rows { types, .. } if types == "T"),
        "{e:?}"
    );
}

#[test]
fn record_statement_returning_rows_is_ok() {
    let e = expectation_from(
        &single(Integer, &[Some("1")]),
        false,
        &Expectation::Ok,
        &ctx(),
    );
    assert!(matches!(e, Some(Expectation::Ok)), "{e:?}");
}

// ---------------------------------------------------------------- Outcome

#[test]
fn outcome_names_and_labels() {
    assert_eq!(Outcome::Pass.name(), "pass");
    assert_eq!(Outcome::ErrorMismatch.label(), "error_mismatch");
    assert_eq!(Outcome::ExtraAccept.label(), "extra_accept");
    assert_eq!(Outcome::ConnectionLost.label(), "connection_lost");
    assert_eq!(div(DivergenceKind::Values).name(), "divergent");
    assert_eq!(div(DivergenceKind::Values).label(), "divergent/values");
    assert_eq!(div(DivergenceKind::RowCount).label(), "divergent/row_count");
    assert_eq!(
        div(DivergenceKind::AffectedRows).label(),
        "divergent/affected_rows"
    );
    assert_eq!(
        div(DivergenceKind::ColumnTypes).kind(),
        Some(DivergenceKind::ColumnTypes)
    );
    assert_eq!(Outcome::Unsupported.kind(), None);
}

#[test]
fn lenient_pass_outcomes() {
    let all = all_outcomes();
    let lenient: Vec<String> = all
        .iter()
        .filter(|o| o.is_lenient_pass())
        .map(|o| o.label())
        .collect();
    assert_eq!(
        lenient,
        vec![
            "pass",
            "error_mismatch",
            "divergent/format",
            "divergent/column_names"
        ]
    );
}

#[test]
fn scored_outcomes() {
    let unscored: Vec<String> = all_outcomes()
        .iter()
        .filter(|o| !o.is_scored())
        .map(|o| o.label())
        .collect();
    assert_eq!(unscored, vec!["skipped", "stale"]);
}

#[test]
fn outcome_serialization() {
    let json = |o: Outcome| serde_json::to_string(&o).expect("serializable");
    assert_eq!(json(Outcome::Pass), "\"pass\"");
    assert_eq!(json(Outcome::ErrorMismatch), "\"error_mismatch\"");
    assert_eq!(json(Outcome::ConnectionLost), "\"connection_lost\"");
    assert_eq!(
        json(div(DivergenceKind::ColumnNames)),
        "{\"divergent\":\"column_names\"}"
    );
    assert_eq!(
        serde_json::to_string(&DivergenceKind::AffectedRows).expect("serializable"),
        "\"affected_rows\""
    );
    for o in all_outcomes() {
        let back: Outcome = serde_json::from_str(&json(o)).expect("deserializable");
        assert_eq!(back, o);
    }
}

#[test]
fn kind_names_match_serde_names() {
    for k in all_kinds() {
        let serde_name = serde_json::to_string(&k).expect("serializable");
        assert_eq!(serde_name, format!("\"{}\"", kind_name(k)));
    }
}

fn all_kinds() -> Vec<DivergenceKind> {
    use DivergenceKind::*;
    vec![
        Values,
        Format,
        RowCount,
        Order,
        ColumnNames,
        ColumnTypes,
        AffectedRows,
    ]
}

fn all_outcomes() -> Vec<Outcome> {
    let mut v = vec![Outcome::Pass, Outcome::ErrorMismatch, Outcome::Unsupported];
    v.extend(all_kinds().into_iter().map(Outcome::Divergent));
    v.extend([
        Outcome::ExtraAccept,
        Outcome::Timeout,
        Outcome::ConnectionLost,
        Outcome::Skipped,
        Outcome::Stale,
    ]);
    v
}
