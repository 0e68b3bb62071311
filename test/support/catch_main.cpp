// The single Catch2 runner of the project: compiled once, linked by every test binary.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <mesh/crypto_init.hpp>

int main(int argc, char* argv[]) {
    mesh::crypto_init();
    return Catch::Session().run(argc, argv);
}
