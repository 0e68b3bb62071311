// recrypt encrypt|decrypt|info: files for groups (docs/tool.md).
//
// encrypt needs no account: it fetches each group's key record over the service's public GET
// and checks its signature against the GroupID. Several --group make a file any of them can
// read (one recipient entry each); with --all, one that needs all of them (the sum of the group
// keys, a "Conjunction" entry: a reader gets one partial from each group). Each entry names its
// service ("Services"), so decrypt finds it; --service overrides.
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

#include <CLI/CLI.hpp>

#include <dare/envelope.hpp>
#include <dare/json.hpp>
#include <mesh/random.hpp>
#include <recrypt/client.hpp>

#include "cli.hpp"
#include "cli_io.hpp"
#include "group_support.hpp"
#include "identity.hpp"
#include "key_store.hpp"

namespace recrypt_cli {
namespace {
using dare::Json;
using dare::JsonArray;
using dare::JsonObject;
using mesh::Errc;
using mesh::fail;
using mesh::Result;

struct CryptArgs {
    std::string file;
    std::string output;
    std::vector<std::string> groups;
    bool all = false;
    std::string service;
    std::string key;
    bool force = false;
};

struct Target {
    std::string group_id;
    std::string service;
    recrypt::Point key;
};

// A group kept here by name, or a GroupID at --service / $RECRYPT_SERVICE; its key checked.
Result<Target> target_of(const std::string& home, const std::string& spec, const std::string& service_flag) {
    std::string group_id = spec;
    std::string fallback;
    if (check_key_name(spec)) {
        if (auto g = load_group(home, spec)) {
            group_id = g->group_id;
            fallback = g->service;
        }
    }
    MESH_ASSIGN_OR_RETURN(const std::string url, service_url(service_flag, fallback));
    MESH_ASSIGN_OR_RETURN(auto t, transport_for(url));
    const dare::SignaturePrivateKey anonymous = dare::SignaturePrivateKey::generate(mesh::system_random());  // GET needs no key
    recrypt::Client client(*t, anonymous, "");
    auto rec = client.fetch_key(group_id);
    if (!rec) return fail(rec.error().code, "group " + spec + ": " + rec.error().message);
    return Target{group_id, url, rec->encryption_key};
}

Result<void> encrypt(Context& ctx, const CryptArgs& a) {
    if (a.groups.empty()) return fail(Errc::invalid_argument, "--group: at least one");
    if (a.all && a.groups.size() < 2) return fail(Errc::invalid_argument, "--all needs two or more --group");
    std::vector<Target> targets;
    for (const auto& g : a.groups) {
        MESH_ASSIGN_OR_RETURN(Target t, target_of(ctx.home, g, a.service));
        for (const auto& other : targets) {
            if (other.key == t.key) return fail(Errc::invalid_argument, "--group " + g + ": named twice");
        }
        targets.push_back(std::move(t));
    }
    dare::EncodeOptions eo;
    if (a.all) {
        recrypt::Point sum = targets.front().key;
        std::vector<std::string> kids{sum.kid()};
        std::vector<std::string> services{targets.front().service};
        for (std::size_t i = 1; i < targets.size(); ++i) {
            MESH_ASSIGN_OR_RETURN(sum, sum.add(targets[i].key));
            kids.push_back(targets[i].key.kid());
            services.push_back(targets[i].service);
        }
        eo.recipients = {sum};
        eo.conjunctions = {kids};
        eo.services = {services};
    } else {
        for (const auto& t : targets) {
            eo.recipients.push_back(t.key);
            eo.services.push_back({t.service});
        }
    }
    const std::string out = a.output.empty() ? (a.file == "-" ? "-" : a.file + ".dare") : a.output;
    MESH_TRY(encode_file(std::move(eo), a.file, out, a.force));
    if (!ctx.json) return mesh::ok();
    JsonArray groups;
    for (const auto& t : targets) {
        groups.push_back(Json(JsonObject{{"GroupID", Json(t.group_id)}, {"Service", Json(t.service)}, {"GroupKey", Json(t.key.kid())}}));
    }
    return print_line(dare::to_json_pretty(Json(JsonObject{{"Output", Json(out)}, {"Readers", Json(a.all ? "all" : "any")},
                                                           {"Groups", Json(std::move(groups))}})));
}

Result<void> decrypt(Context& ctx, const CryptArgs& a) {
    MESH_ASSIGN_OR_RETURN(const Me me, whoami(ctx.home, a.key));
    std::string fallback = me.personal_service;
    if (const char* env = std::getenv("RECRYPT_SERVICE"); env != nullptr && *env != '\0') fallback = env;
    Reader reader(me, a.service, fallback);
    const std::string out = a.output.empty() ? "-" : a.output;
    if (auto done = decode_file(dare::OpenOptions{&reader, {}, false}, a.file, out, a.force); !done) {
        const Errc c = done.error().code;
        if (c == Errc::malformed || c == Errc::unsupported) return fail(c, a.file + ": " + done.error().message);
        if (c == Errc::not_found) return fail(c, a.file + ": not for any group you read (" + done.error().message + ")");
        return std::move(done).error();
    }
    if (ctx.json && !a.output.empty() && a.output != "-") {
        JsonArray used;
        for (const auto& u : reader.services_used()) used.emplace_back(u);
        return print_line(dare::to_json_pretty(Json(JsonObject{{"Output", Json(a.output)},
                                                                                                                              {"Services", Json(std::move(used))}})));
    }
    return mesh::ok();
}

// What a file is for, from its header alone: no keys, no service.
Result<void> info(Context& ctx, const std::string& file) {
    MESH_ASSIGN_OR_RETURN(const Input input, Input::open(file));
    dare::FdSource src(input.fd());
    auto header = dare::read_header(src);
    if (!header) return fail(header.error().code, file + ": " + header.error().message);
    JsonArray recipients;
    std::string text = file + ": " + (header->enc ? "encrypted (" + std::string(dare::aead_name(*header->enc)) + ")" : "not encrypted");
    for (const auto& r : header->recipients) {
        JsonObject o{{"GroupKey", Json(r.kid)}};
        const std::vector<std::string> keys = r.conjunction.empty() ? std::vector<std::string>{r.kid} : r.conjunction;
        text += r.conjunction.empty() ? "\n  readers: group key " + r.kid : "\n  readers: members of all of";
        JsonArray parts;
        for (std::size_t i = 0; i < keys.size(); ++i) {
            JsonObject part{{"GroupKey", Json(keys[i])}};
            std::string line = r.conjunction.empty() ? "" : "\n    group key " + keys[i];
            if (i < r.services.size()) {
                part.emplace_back("Service", Json(r.services[i]));
                line += "  at " + r.services[i];
            }
            if (auto g = group_by_key(ctx.home, keys[i])) {
                part.emplace_back("LocalGroup", Json(g->name));
                line += "  (your group " + g->name + ")";
            }
            text += line;
            parts.push_back(Json(std::move(part)));
        }
        o.emplace_back(r.conjunction.empty() ? "Group" : "AllOf", r.conjunction.empty() ? parts.front() : Json(std::move(parts)));
        recipients.push_back(Json(std::move(o)));
    }
    if (header->recipients.size() > 1) text += "\n  (any one of these opens it)";
    if (!ctx.json) return print_line(text);
    return print_line(dare::to_json_pretty(Json(JsonObject{{"File", Json(file)},
                                                           {"Encrypted", Json(header->enc.has_value())},
                                                           {"Recipients", Json(std::move(recipients))}})));
}
}  // namespace

void add_crypt_commands(CLI::App& app, Context& ctx) {
    {
        auto a = std::make_shared<CryptArgs>();
        auto* c = app.add_subcommand("encrypt", "Encrypt a file to groups (no account needed: each group's key is fetched and checked)");
        c->add_option("FILE", a->file, "file to encrypt")->required();
        c->add_option("--group", a->groups, "a group kept here, or a GroupID; repeat for several (any of them reads)")->required();
        c->add_flag("--all", a->all, "only members of all the --group read it (not any one)");
        c->add_option("--service", a->service, "the service URL (default: the group's, or $RECRYPT_SERVICE)");
        c->add_option("-o,--output", a->output, "output file (default FILE.dare)");
        c->add_flag("--force", a->force, "replace the output file");
        c->footer("Examples:\n  recrypt encrypt notes.txt --group friends\n"
                  "  recrypt encrypt q3.xlsx --group MBXX-... --group MCYY-... --all --service https://recrypt.example.com");
        c->callback(ctx.bind("encrypt", [a, &ctx] { return encrypt(ctx, *a); }));
    }
    {
        auto a = std::make_shared<CryptArgs>();
        auto* c = app.add_subcommand("decrypt", "Decrypt a file for a group you belong to, through the service the file names");
        c->add_option("FILE", a->file, "file to decrypt")->required();
        c->add_option("--service", a->service, "ask this service instead of the one the file names");
        c->add_option("--key", a->key, "which of your keys (default: your profile's device, or the only key)");
        c->add_option("-o,--output", a->output, "output file (default standard output)");
        c->add_flag("--force", a->force, "replace the output file");
        c->footer("Example:\n  recrypt decrypt notes.txt.dare -o notes.txt");
        c->callback(ctx.bind("decrypt", [a, &ctx] { return decrypt(ctx, *a); }));
    }
    {
        auto file = std::make_shared<std::string>();
        auto* c = app.add_subcommand("info", "Who can read a file: its groups and their services (no keys needed)");
        c->add_option("FILE", *file, "an encrypted file")->required();
        c->footer("Example:\n  recrypt info notes.txt.dare --json");
        c->callback(ctx.bind("info", [file, &ctx] { return info(ctx, *file); }));
    }
}

}  // namespace recrypt_cli
