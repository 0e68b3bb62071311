// recrypt udf ...: fingerprints, nonces, keys, shares and EARLs from the command line.
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include <mesh/bytes.hpp>
#include <udf/digest.hpp>
#include <udf/keys.hpp>
#include <udf/shamir.hpp>
#include <udf/udf.hpp>

#include "cli.hpp"
#include "cli_io.hpp"

namespace recrypt_cli {
namespace {
using mesh::Errc;
using mesh::Result;

struct DigestOptions {
    std::string file;
    std::string alg = "sha2";
    std::string content_type = "application/octet-stream";
    unsigned bits = udf::kDefaultBits;
    std::string key;
};

// The data digest of FILE or standard input.
Result<mesh::Digest512> digest_input(const std::string& file, udf::DigestAlg alg) {
    MESH_ASSIGN_OR_RETURN(const Input in, Input::open(file));
    udf::ContentDigester digester(alg);
    const auto read = udf::digest_fd(in.fd(), digester);
    if (!read) return mesh::fail(read.error().code, (file == "-" ? "standard input" : file) + ": " + read.error().message);
    return digester.finish_data_digest();
}

Result<void> run_digest(const DigestOptions& o) {
    const auto alg = o.alg == "sha3" ? udf::DigestAlg::sha3_512 : udf::DigestAlg::sha2_512;
    MESH_ASSIGN_OR_RETURN(const mesh::Digest512 d, digest_input(o.file, alg));
    MESH_ASSIGN_OR_RETURN(const std::string text,
                          udf::present(udf::digest_to_binary(alg, o.content_type, d), o.bits));
    return print_line(text);
}

Result<void> run_mac(const DigestOptions& o) {
    if (o.key == "-" && o.file == "-") {
        return mesh::fail(Errc::invalid_argument, "--key - and FILE - both read standard input");
    }
    mesh::SecureBytes key;
    if (o.key == "-") {
        MESH_ASSIGN_OR_RETURN(key, read_secret_line("key"));
    } else {
        key = mesh::SecureBytes(mesh::as_bytes(o.key));
    }
    MESH_ASSIGN_OR_RETURN(const mesh::Digest512 d, digest_input(o.file, udf::DigestAlg::sha2_512));
    const auto k = key.expose_secret();
    const std::string_view key_text(reinterpret_cast<const char*>(k.data()), k.size());
    MESH_ASSIGN_OR_RETURN(const std::string text,
                          udf::present(udf::authenticator_binary(key_text, o.content_type, d), o.bits));
    return print_line(text);
}

struct FingerprintOptions {
    std::string alg;
    std::string public_key;
    std::string seed;
    unsigned bits = udf::kDefaultBits;
};

Result<void> run_fingerprint(const FingerprintOptions& o) {
    MESH_ASSIGN_OR_RETURN(const udf::KeyAlgorithm alg, udf::parse_key_algorithm(o.alg));
    mesh::Bytes pk;
    if (!o.public_key.empty()) {
        auto decoded = mesh::base64url_decode(o.public_key);
        if (!decoded) return mesh::fail(decoded.error().code, "--public: " + decoded.error().message);
        pk = std::move(decoded).value();
    } else {
        mesh::SecureBytes seed_text;
        if (o.seed == "-") {
            MESH_ASSIGN_OR_RETURN(seed_text, read_secret_line("seed"));
        } else {
            seed_text = mesh::SecureBytes(mesh::as_bytes(o.seed));
        }
        const auto t = seed_text.expose_secret();
        auto seed = mesh::base64url_decode(std::string_view(reinterpret_cast<const char*>(t.data()), t.size()));
        if (!seed) return mesh::fail(seed.error().code, "--seed: " + seed.error().message);
        mesh::SecureBytes secret(*seed);
        mesh::secure_wipe(seed->data(), seed->size());
        MESH_ASSIGN_OR_RETURN(pk, udf::public_from_seed(alg, secret.expose_secret()));
    }
    MESH_ASSIGN_OR_RETURN(const std::string fp, udf::key_fingerprint(alg, pk, o.bits));
    return print_line(fp);
}

struct SplitOptions {
    unsigned threshold = 0;
    unsigned shares = 0;
    std::string secret_hex;
    std::string secret_udf;
};

Result<void> run_split(const SplitOptions& o) {
    mesh::SecureBytes secret;
    if (!o.secret_hex.empty()) {
        auto bytes = mesh::hex_decode(o.secret_hex);
        if (!bytes) return mesh::fail(bytes.error().code, "--secret-hex: " + bytes.error().message);
        secret = mesh::SecureBytes(*bytes);
        mesh::secure_wipe(bytes->data(), bytes->size());
    } else {
        auto bin = udf::decode_exact(o.secret_udf);
        if (!bin) return mesh::fail(bin.error().code, "--secret: " + bin.error().message);
        secret = std::move(bin).value();
    }
    MESH_ASSIGN_OR_RETURN(const auto shares,
                          udf::shamir_split(secret.expose_secret(), o.threshold, o.shares,
                                            mesh::system_random()));
    for (const auto& s : shares) MESH_TRY(print_line(udf::present_full(s.expose_secret())));
    return mesh::ok();
}

Result<void> run_recover(const std::vector<std::string>& texts, bool as_udf) {
    std::vector<mesh::SecureBytes> shares;
    for (std::size_t i = 0; i < texts.size(); ++i) {
        auto s = udf::parse_share(texts[i]);
        if (!s) return mesh::fail(s.error().code, "share " + std::to_string(i + 1) + ": " + s.error().message);
        shares.push_back(std::move(s).value());
    }
    MESH_ASSIGN_OR_RETURN(const mesh::SecureBytes secret, udf::shamir_recover(shares));
    if (as_udf) {
        if (!udf::is_known_type(secret.expose_secret()[0])) {
            return mesh::fail(Errc::unsupported, "the recovered secret is not a UDF; omit --udf");
        }
        return print_line(udf::present_full(secret.expose_secret()));
    }
    return print_line(mesh::hex_encode_upper(secret.expose_secret()));
}

Result<void> run_earl(const std::string& domain, const std::string& key_text) {
    std::string key = key_text;
    if (key.empty()) {
        MESH_ASSIGN_OR_RETURN(const mesh::SecureBytes k, udf::make_encryption_key(mesh::system_random()));
        key = udf::present_full(k.expose_secret());
    }
    MESH_ASSIGN_OR_RETURN(const udf::Earl earl, udf::make_earl(domain, key));
    MESH_TRY(print_line(udf::to_string(earl)));
    return print_line(udf::earl_content_identifier(earl));
}
}  // namespace

void add_udf_commands(CLI::App& app, Context& ctx) {
    auto* udf_cmd = app.add_subcommand("udf", "Uniform Data Fingerprints: digests, keys, shares, EARLs");
    udf_cmd->require_subcommand(1);
    const auto bits_range = CLI::Range(udf::kMinBits, udf::kMaxDigestBits);

    {
        auto o = std::make_shared<DigestOptions>();
        auto* c = udf_cmd->add_subcommand("digest", "Content digest UDF of a file");
        c->add_option("FILE", o->file, "file to fingerprint, - for standard input")->required();
        c->add_option("--alg", o->alg, "sha2 (SHA-2-512, type 96) or sha3 (SHA-3-512, type 80)")
            ->check(CLI::IsMember({"sha2", "sha3"}))->capture_default_str();
        c->add_option("--content-type", o->content_type, "content type hashed with the data")
            ->capture_default_str();
        c->add_option("--bits", o->bits, "precision in bits (100-440; 5 bits a character)")
            ->check(bits_range)->capture_default_str();
        c->footer("Example:\n  recrypt udf digest report.pdf --content-type application/pdf\n"
                  "  echo -n hello | recrypt udf digest - --alg sha3 --bits 200");
        c->callback(ctx.bind("udf digest", [o] { return run_digest(*o); }));
    }
    {
        auto o = std::make_shared<DigestOptions>();
        auto* c = udf_cmd->add_subcommand("mac", "Authenticator UDF (HMAC-SHA-512) of a file under a key string");
        c->add_option("FILE", o->file, "file to authenticate, - for standard input")->required();
        c->add_option("--key", o->key,
                      "key string, usually a nonce UDF; - reads it from standard input "
                      "(keeps it out of the process list)")->required();
        c->add_option("--content-type", o->content_type, "content type")->capture_default_str();
        c->add_option("--bits", o->bits, "precision in bits (100-440)")->check(bits_range)->capture_default_str();
        c->footer("Example:\n  recrypt udf mac minutes.txt --key NDD7-6CMX-H2FW-ISAL-K4VB-DQ3E-PEDM");
        c->callback(ctx.bind("udf mac", [o] { return run_mac(*o); }));
    }
    {
        auto bits = std::make_shared<unsigned>(128);
        auto* c = udf_cmd->add_subcommand("nonce", "Random nonce UDF (type 104)");
        c->add_option("--bits", *bits, "bits of randomness (multiple of 8, 128-512)")
            ->check(CLI::Range(128, 512))->capture_default_str();
        c->footer("Example:\n  recrypt udf nonce --bits 256");
        c->callback(ctx.bind("udf nonce", [bits]() -> Result<void> {
            MESH_ASSIGN_OR_RETURN(const std::string n, udf::make_nonce(mesh::system_random(), *bits));
            return print_line(n);
        }));
    }
    {
        auto bits = std::make_shared<unsigned>(128);
        auto* c = udf_cmd->add_subcommand("key", "Random encryption-key UDF (type 32)");
        c->add_option("--bits", *bits, "bits of key (multiple of 8, 128-512)")
            ->check(CLI::Range(128, 512))->capture_default_str();
        c->footer("Example:\n  recrypt udf key --bits 256");
        c->callback(ctx.bind("udf key", [bits]() -> Result<void> {
            MESH_ASSIGN_OR_RETURN(const mesh::SecureBytes k,
                                  udf::make_encryption_key(mesh::system_random(), *bits));
            return print_line(udf::present_full(k.expose_secret()));
        }));
    }
    {
        auto o = std::make_shared<FingerprintOptions>();
        auto* c = udf_cmd->add_subcommand("key-fingerprint", "Fingerprint UDF of a public key (SPKI DER, PKIXKey)");
        c->add_option("--alg", o->alg, "ed25519, x25519, ed448 or x448")->required()
            ->check(CLI::IsMember({"ed25519", "x25519", "ed448", "x448"}, CLI::ignore_case));
        auto* pub = c->add_option("--public", o->public_key,
                                  "public key, base64url (x25519/x448: u and the sign byte, 33/57 bytes)");
        auto* seed = c->add_option("--seed", o->seed,
                                   "RFC 8032 private seed, base64url (ed25519, ed448); - reads standard input");
        pub->excludes(seed);
        c->footer("Example:\n  recrypt udf key-fingerprint --alg ed25519 --public hXYwxCyxUZj5MvaA0jWVXlZKKOUFCLOcEGFeX4K7GPc");
        c->callback(ctx.bind("udf key-fingerprint", [o]() -> Result<void> {
            if (o->public_key.empty() == o->seed.empty()) {
                return mesh::fail(Errc::invalid_argument, "give exactly one of --public and --seed");
            }
            return run_fingerprint(*o);
        }));
    }
    {
        auto o = std::make_shared<SplitOptions>();
        auto* c = udf_cmd->add_subcommand("split", "Split a secret into Shamir shares (one UDF a line)");
        c->add_option("--threshold", o->threshold, "shares needed to recover (2-15)")->required()
            ->check(CLI::Range(2, 15));
        c->add_option("--shares", o->shares, "shares to make (threshold-15)")->required()
            ->check(CLI::Range(2, 15));
        auto* hex = c->add_option("--secret-hex", o->secret_hex, "the secret in hex (1-64 bytes)");
        auto* u = c->add_option("--secret", o->secret_udf,
                                "the secret as a UDF (its whole binary, type byte included, is shared)");
        hex->excludes(u);
        c->footer("Example:\n  recrypt udf split --threshold 2 --shares 3 --secret-hex 764F4125A81FC984510E473432497AD2");
        c->callback(ctx.bind("udf split", [o]() -> Result<void> {
            if (o->secret_hex.empty() == o->secret_udf.empty()) {
                return mesh::fail(Errc::invalid_argument, "give exactly one of --secret-hex and --secret");
            }
            return run_split(*o);
        }));
    }
    {
        auto shares = std::make_shared<std::vector<std::string>>();
        auto as_udf = std::make_shared<bool>(false);
        auto* c = udf_cmd->add_subcommand("recover", "Recover a secret from Shamir shares (prints upper-case hex)");
        c->add_option("SHARE", *shares, "share UDFs, at least the threshold")->required();
        c->add_flag("--udf", *as_udf, "print the secret as a UDF (for secrets split with --secret)");
        c->footer("Example:\n  recrypt udf recover SAQM-JPZ2-TI3G-ZC4N-HNMZ-HREO-EVNC-A SARG-DHZN-QNJQ-MD47-B7YC-ZZKF-3UMI-S");
        c->callback(ctx.bind("udf recover", [shares, as_udf] { return run_recover(*shares, *as_udf); }));
    }
    {
        auto domain = std::make_shared<std::string>();
        auto key = std::make_shared<std::string>();
        auto* c = udf_cmd->add_subcommand("earl", "Encrypted authenticated resource locator and its content identifier");
        c->add_option("--domain", *domain, "DNS domain of the mmm-udf service")->required();
        c->add_option("--key", *key, "encryption-key UDF (default: a new random key)");
        c->footer("Prints two lines: udf://DOMAIN/KEY and the content identifier to GET.\n"
                  "Example:\n  recrypt udf earl --domain example.com --key EAYD-XWZT-KLWY-LAM5-65GD-II6N-MPZS-TP");
        c->callback(ctx.bind("udf earl", [domain, key] { return run_earl(*domain, *key); }));
    }
}

}  // namespace recrypt_cli
