// The single Catch2 runner of the project: compiled once, linked by every test binary.
// A run whose filter matches no test case fails (as --warn NoTests): a test name that the
// ctest registration cannot quote (a ';' in it) would otherwise pass without running.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <mesh/crypto_init.hpp>

int main(int argc, char* argv[]) {
    mesh::crypto_init();
    Catch::Session session;
    if (const int rc = session.applyCommandLine(argc, argv); rc != 0) return rc;
    auto& data = session.configData();
    data.warnings = static_cast<Catch::WarnAbout::What>(data.warnings | Catch::WarnAbout::NoTests);
    return session.run();
}
