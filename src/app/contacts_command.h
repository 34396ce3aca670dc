// `rapport contacts import FILE.csv`, `rapport contacts export`, `rapport contacts duplicates` and
// `rapport contacts erase ID|EMAIL` (tracking/erasure.h, as DELETE /api/v1/contacts/{id}).
//
// import streams the CSV into the store (see contact_import.h for the mapping), reports each
// rejected row on stderr as "line N: reason" (the first 100; all of them go to the reject file,
// <FILE>.rejects.csv unless --reject names another, created only when a row is rejected), shows
// a progress bar when stderr is a terminal, records an audit entry (actor "cli"), and ends with
// one line on stdout: "imported N (created C, updated U), rejected R". export writes CSV or JSON
// lines (see contact_export.h) to stdout or --output.
#pragma once

#include <CLI/CLI.hpp>

namespace rapport::app {

void RegisterContactsCommand(CLI::App& root, int& exit_code);

}  // namespace rapport::app
