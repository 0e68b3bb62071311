// Input and output helpers of the recrypt tool: files or "-" for standard streams.
#pragma once

#include <string>
#include <string_view>

#include <mesh/result.hpp>
#include <mesh/secure.hpp>

namespace recrypt_cli {

/// Opens FILE for reading ("-" is standard input); returns the file descriptor.
mesh::Result<int> open_input(const std::string& path);
/// Closes a descriptor from open_input (standard input is left open).
void close_input(int fd);
/// Reads one secret line from standard input (the trailing newline removed).
mesh::Result<mesh::SecureBytes> read_secret_line(std::string_view what);
/// Writes one line to standard output; io error if stdout fails (e.g. a closed pipe).
mesh::Result<void> print_line(std::string_view line);

}  // namespace recrypt_cli
