// mesh/files.hpp: private directories and crash-safe files, shared by the key and profile
// stores and recryptd's data directory.
// Thread-safety: functions; concurrent writers of one path are the caller's to serialize.
// Errors: io (the OS, with the path), permission_denied (unsafe permissions or owner),
// invalid_argument (not a directory), not_found, limit_exceeded (file too large).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <mesh/result.hpp>

namespace mesh {

/// Creates `dir` (and its parents) with mode 0700 if absent; refuses one that is not a
/// directory, belongs to another user, or that others may access (saying what to chmod).
/// Returns whether it was created.
Result<bool> ensure_private_dir(const std::string& dir);

/// Writes `data` to `path` so that a crash leaves the old file or the new one: a temporary file
/// beside it (created with `mode`), fsync, rename over `path`, fsync of the directory.
Result<void> write_file_atomic(const std::string& path, std::string_view data, unsigned mode);

/// The whole file, at most `limit` bytes. With `private_only`, a file that others may read is
/// refused (permission_denied) and symbolic links are not followed.
Result<std::string> read_file(const std::string& path, std::size_t limit, bool private_only = false);

}  // namespace mesh
