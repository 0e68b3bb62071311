#include <mesh_test/support.hpp>

#include <atomic>
#include <set>
#include <filesystem>
#include <fstream>
#include <thread>

#include <csignal>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dare/container.hpp>

#include "container_support.hpp"

using mesh::Errc;
namespace fs = std::filesystem;
using namespace dare_test;

namespace {
// Runs body(lift) in a forked child whose files may not grow past `limit` bytes (RLIMIT_FSIZE is
// per process; SIGXFSZ ignored, so such a write fails with EFBIG); lift() removes the limit.
// True if the child's body returned true.
template <class Body>
bool in_child_with_file_limit(std::uintmax_t limit, Body body) {
    const pid_t pid = ::fork();
    if (pid < 0) return false;
    if (pid == 0) {
        ::signal(SIGXFSZ, SIG_IGN);
        rlimit lim{};
        ::getrlimit(RLIMIT_FSIZE, &lim);
        const rlimit small{static_cast<rlim_t>(limit), lim.rlim_max};
        ::setrlimit(RLIMIT_FSIZE, &small);
        const auto lift = [&lim] { ::setrlimit(RLIMIT_FSIZE, &lim); };
        ::_exit(body(lift) ? 0 : 1);
    }
    int status = 0;
    return ::waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}
}  // namespace


TEST_CASE("containers of every type append, read back, find objects and reopen", "[container][unit]") {
    TempDir dir;
    const auto type = GENERATE(dare::ContainerType::list, dare::ContainerType::digest, dare::ContainerType::chain,
                               dare::ContainerType::tree, dare::ContainerType::merkle);
    const std::string path = dir.file(std::string(dare::container_type_name(type)) + ".dare");
    {
        auto created = dare::Container::create(path, type);
        REQUIRE_OK(created);
        auto& c = *created;
        CHECK(c.frames() == 1);
        for (std::size_t i = 1; i <= 20; ++i) {
            CHECK(c.append(payload(i), object("obj-" + std::to_string(i % 7))).value() == i);
        }
        const auto five = c.read(5);
        REQUIRE_OK(five);
        CHECK(five->payload == payload(5));
        CHECK(c.find("obj-3").value() == 17);  // the latest frame for the object
        CHECK_ERRC(c.find("obj-99"), Errc::not_found);
        CHECK_ERRC(c.read(0), Errc::not_found);
        CHECK_ERRC(c.read(21), Errc::not_found);
        REQUIRE_OK(c.verify());
    }
    CHECK_ERRC(dare::Container::create(path, type), Errc::already_exists);
    dare::OpenReport report;
    auto c = dare::Container::open(path, {}, &report).value();
    CHECK(c.type() == type);
    CHECK(report.frames == 21);
    CHECK(report.truncated_bytes == 0);
    const auto f = c.read(20).value();
    CHECK(f.payload == payload(20));
    CHECK(f.meta.unique_id == "obj-6");
    CHECK(f.meta.event == "New");
    CHECK(c.append(payload(21), object("later", "Update")).value() == 21);
    CHECK(c.find("later").value() == 21);
    CHECK_ERRC(dare::Container::open(dir.file("missing.dare")), Errc::not_found);
}

TEST_CASE("a torn tail is cut back to the last whole frame, at every cut point", "[container][property]") {
    TempDir dir;
    const std::string path = dir.file("torn.dare");
    {
        auto c = dare::Container::create(path, dare::ContainerType::chain, kFast).value();
        for (std::size_t i = 1; i <= 3; ++i) REQUIRE_OK(c.append(payload(i), object("o" + std::to_string(i))));
    }
    const mesh::Bytes whole = read_file(path);
    // find the start of the last frame: the first cut that still leaves three whole frames
    std::size_t last_start = 0;
    {
        mesh::Bytes b = whole;
        for (std::size_t cut = b.size() - 1; cut > 0; --cut) {
            write_file(path, mesh::Bytes(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(cut)));
            dare::OpenReport r;
            auto c = dare::Container::open(path, kFast, &r);
            REQUIRE_OK(c);
            if (r.frames == 3) {
                last_start = cut - r.truncated_bytes;
                break;
            }
        }
    }
    REQUIRE(last_start > 0);
    for (std::size_t cut = last_start; cut < whole.size(); ++cut) {
        write_file(path, mesh::Bytes(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(cut)));
        dare::OpenReport r;
        auto c = dare::Container::open(path, kFast, &r);
        REQUIRE_OK(c);
        INFO("cut at " << cut);
        CHECK(r.frames == 3);
        CHECK(r.truncated_bytes == cut - last_start);
        CHECK(fs::file_size(path) == last_start);
        CHECK(c->read(2).value().payload == payload(2));
        REQUIRE_OK(c->verify());
    }
    // garbage after the last frame is cut too, and appends continue the chain
    mesh::Bytes junk = whole;
    junk.insert(junk.end(), {0x42, 0x43, 0xF4, 0x00});
    write_file(path, junk);
    dare::OpenReport r;
    auto c = dare::Container::open(path, kFast, &r).value();
    CHECK(r.truncated_bytes == 4);
    CHECK(c.append(payload(4), object("o4")).value() == 4);
    REQUIRE_OK(c.verify());
    REQUIRE_OK(dare::Container::open(path, kFast));
}

TEST_CASE("damage in the middle is reported and nothing is truncated", "[container][property]") {
    TempDir dir;
    const std::string path = dir.file("chain.dare");
    {
        auto c = dare::Container::create(path, dare::ContainerType::chain, kFast).value();
        for (std::size_t i = 1; i <= 4; ++i) REQUIRE_OK(c.append(payload(i), object("o" + std::to_string(i))));
    }
    const mesh::Bytes whole = read_file(path);
    std::map<std::string, int> codes;
    for (std::size_t i = 0; i < whole.size(); ++i) {
        mesh::Bytes bad = whole;
        bad[i] ^= 0x01;
        write_file(path, bad);
        auto c = dare::Container::open(path, kFast);
        INFO("offset " << i);
        if (c) {
            // a flip that only made the file shorter-looking is a torn tail; otherwise it must fail
            FAIL("a flipped byte went unnoticed");
        }
        CHECK(fs::file_size(path) == whole.size());  // damage is reported, not cut away
        ++codes[std::string(mesh::errc_name(c.error().code))];
    }
    CHECK(codes["auth_failed"] > 0);
    CHECK(codes["malformed"] > 0);
    CHECK(codes.size() <= 3);  // malformed, auth_failed, unsupported (frame 0's type)
}

TEST_CASE("readers run while a writer appends", "[container][unit]") {
    TempDir dir;
    const std::string path = dir.file("busy.dare");
    auto c = dare::Container::create(path, dare::ContainerType::digest, kFast).value();
    REQUIRE_OK(c.append(payload(1), object("first")));
    std::atomic<bool> done{false};
    std::atomic<int> errors{0};
    std::vector<std::thread> readers;
    for (int t = 0; t < 3; ++t) {
        readers.emplace_back([&] {
            while (!done) {
                const std::uint64_t n = c.frames();
                for (std::uint64_t i = 1; i < n; ++i) {
                    if (!c.read(i) || c.read(i)->payload != payload(i)) ++errors;
                }
            }
        });
    }
    for (std::size_t i = 2; i <= 200; ++i) REQUIRE_OK(c.append(payload(i), object("o" + std::to_string(i))));
    done = true;
    for (auto& r : readers) r.join();
    CHECK(errors == 0);
    REQUIRE_OK(c.verify());
}

TEST_CASE("limits and foreign files", "[container][unit]") {
    TempDir dir;
    const std::string path = dir.file("limit.dare");
    auto c = dare::Container::create(path, dare::ContainerType::list, options_of(dare::SyncPolicy::every_append, 100)).value();
    CHECK_ERRC(c.append(mesh::Bytes(101), object("big")), Errc::limit_exceeded);
    REQUIRE_OK(c.append(mesh::Bytes(100), object("ok")));
    write_file(dir.file("text.dare"), mesh::Bytes{'h', 'e', 'l', 'l', 'o'});
    CHECK_ERRC(dare::Container::open(dir.file("text.dare")), Errc::malformed);
    write_file(dir.file("empty.dare"), {});
    CHECK_ERRC(dare::Container::open(dir.file("empty.dare")), Errc::malformed);
}

TEST_CASE("a catalog keeps the latest state of each object, across reopening", "[container][unit]") {
    TempDir dir;
    const std::string path = dir.file("catalog.dare");
    {
        auto c = dare::Container::create(path, dare::ContainerType::chain, kFast).value();
        dare::Catalog cat(c);
        REQUIRE_OK(cat.put("alice", mesh::as_bytes("v1")));
        REQUIRE_OK(cat.put("bob", mesh::as_bytes("b1")));
        REQUIRE_OK(cat.put("alice", mesh::as_bytes("v2")));
        REQUIRE_OK(cat.remove("bob"));
        CHECK_ERRC(cat.remove("bob"), Errc::not_found);
        CHECK_ERRC(cat.get("bob"), Errc::not_found);
        CHECK_ERRC(cat.put("", mesh::as_bytes("x")), Errc::invalid_argument);
        CHECK(cat.get("alice").value() == mesh::Bytes{'v', '2'});
        CHECK(c.read(3).value().meta.event == "Update");
        CHECK(c.read(1).value().meta.event == "New");
    }
    auto c = dare::Container::open(path, kFast).value();
    dare::Catalog cat(c);
    CHECK(cat.ids() == std::vector<std::string>{"alice"});
    CHECK(cat.get("alice").value() == mesh::Bytes{'v', '2'});
    REQUIRE_OK(cat.put("bob", mesh::as_bytes("b2")));  // back after deletion: New again
    CHECK(c.read(c.frames() - 1).value().meta.event == "New");
    CHECK(cat.ids() == std::vector<std::string>({"alice", "bob"}));
}

TEST_CASE("a catalog stores several objects in one write, all of them or none", "[container][unit]") {
    TempDir dir;
    const std::string path = dir.file("catalog.dare");
    {
        auto c = dare::Container::create(path, dare::ContainerType::chain, kFast).value();
        dare::Catalog cat(c);
        REQUIRE_OK(cat.put("alice", mesh::as_bytes("a1")));
        const std::vector<dare::Catalog::Put> batch = {{"alice", mesh::as_bytes("a2")},
                                                       {"bob", mesh::as_bytes("b1")},
                                                       {"bob", mesh::as_bytes("b2")},
                                                       {"carol", mesh::as_bytes("c1"), "text/plain"}};
        CHECK(cat.put_all(batch).value() == 2);
        CHECK(c.frames() == 6);
        CHECK(c.read(2).value().meta.event == "Update");  // alice was there
        CHECK(c.read(3).value().meta.event == "New");     // bob, the first time
        CHECK(c.read(4).value().meta.event == "Update");  // bob again, in the same batch
        CHECK(c.read(5).value().meta.content_type == "text/plain");
        CHECK(cat.get("bob").value() == mesh::Bytes{'b', '2'});
        const std::vector<dare::Catalog::Put> bad_id = {{"dave", mesh::as_bytes("d1")}, {"", mesh::as_bytes("x")}};
        CHECK_ERRC(cat.put_all(bad_id), Errc::invalid_argument);
        CHECK_ERRC(cat.put_all({}), Errc::invalid_argument);
        CHECK(c.frames() == 6);  // nothing of the refused batches
    }
    // A write that fails part-way (the file size limit) stores none of the batch.
    const auto before = fs::file_size(path);
    CHECK(in_child_with_file_limit(before + 2048, [&](const auto& lift) {
        auto c = dare::Container::open(path, kFast).value();
        dare::Catalog cat(c);
        const mesh::Bytes big(4096, 0x5a);
        const std::vector<dare::Catalog::Put> batch = {{"dave", mesh::as_bytes("d1")}, {"erin", big}, {"frank", big}};
        const bool refused = !cat.put_all(batch);
        const bool unchanged = fs::file_size(path) == before && !cat.get("dave") && c.frames() == 6;
        lift();
        return refused && unchanged && cat.put_all(batch).has_value() && c.frames() == 9;
    }));
    auto c = dare::Container::open(path, kFast).value();
    dare::Catalog cat(c);
    CHECK(cat.ids() == std::vector<std::string>({"alice", "bob", "carol", "dave", "erin", "frank"}));
    CHECK(c.read(6).value().meta.event == "New");  // dave: the refused batch left no trace
    REQUIRE_OK(c.verify());
}

TEST_CASE("a spool keeps messages in order with their latest status", "[container][unit]") {
    TempDir dir;
    auto c = dare::Container::create(dir.file("spool.dare"), dare::ContainerType::digest, kFast).value();
    dare::Spool spool(c);
    REQUIRE_OK(spool.post("m1", mesh::as_bytes("hello")));
    REQUIRE_OK(spool.post("m2", mesh::as_bytes("world")));
    REQUIRE_OK(spool.post("m3", mesh::as_bytes("!")));
    REQUIRE_OK(spool.mark("m2", "Read"));
    REQUIRE_OK(spool.mark("m1", "Read"));
    REQUIRE_OK(spool.mark("m1", "Deleted"));
    CHECK_ERRC(spool.post("m2", mesh::as_bytes("again")), Errc::already_exists);
    CHECK_ERRC(spool.mark("m9", "Read"), Errc::not_found);
    const auto ms = spool.messages().value();
    REQUIRE(ms.size() == 3);
    CHECK(ms[0].id == "m1");
    CHECK(ms[0].status == "Deleted");
    CHECK(ms[1].status == "Read");
    CHECK(ms[2].status == "Unread");
    CHECK(c.read(ms[2].frame).value().payload == mesh::Bytes{'!'});
}

TEST_CASE("group commit: concurrent appends share syncs and all are acknowledged in order", "[container][unit]") {
    TempDir dir;
    const std::string path = dir.file("group.dare");
    {
        auto c = dare::Container::create(path, dare::ContainerType::chain,
                                         options_of(dare::SyncPolicy::group, std::size_t{1} << 20)).value();
        std::vector<std::thread> writers;
        std::atomic<int> failures{0};
        std::mutex seen_m;
        std::set<std::uint64_t> seen;
        for (int t = 0; t < 4; ++t) {
            writers.emplace_back([&, t] {
                for (int i = 0; i < 50; ++i) {
                    const auto r = c.append(payload(static_cast<std::size_t>(t * 100 + i)), object("w" + std::to_string(t)));
                    if (!r) {
                        ++failures;
                        continue;
                    }
                    // acknowledged means published: a reader sees it now
                    if (!c.read(*r)) ++failures;
                    const std::lock_guard lock(seen_m);
                    seen.insert(*r);
                }
            });
        }
        for (auto& w : writers) w.join();
        CHECK(failures == 0);
        CHECK(seen.size() == 200);
        CHECK(*seen.begin() == 1);
        CHECK(*seen.rbegin() == 200);
        CHECK(c.frames() == 201);
        REQUIRE_OK(c.verify());
    }
    auto c = dare::Container::open(path).value();
    CHECK(c.frames() == 201);
    REQUIRE_OK(c.verify());
}

TEST_CASE("compaction keeps the latest live state, and appends made during it", "[container][unit]") {
    TempDir dir;
    const std::string path = dir.file("compact.dare");
    auto c = dare::Container::create(path, dare::ContainerType::chain, kFast).value();
    dare::Catalog cat(c);
    for (int round = 0; round < 20; ++round) {
        for (int k = 0; k < 10; ++k) REQUIRE_OK(cat.put("k" + std::to_string(k), payload(static_cast<std::size_t>(round * 10 + k))));
    }
    REQUIRE_OK(cat.remove("k3"));
    const auto before = fs::file_size(path);
    // a writer keeps appending while compaction runs
    std::atomic<bool> stop{false};
    std::atomic<int> written{0};
    std::thread writer([&] {
        for (int i = 0; !stop && i < 200; ++i) {
            if (cat.put("live" + std::to_string(i), payload(static_cast<std::size_t>(i)))) ++written;
        }
    });
    REQUIRE_OK(c.compact());
    stop = true;
    writer.join();
    (void)before;
    CHECK(c.frames() == 1 + 9 + 1 + static_cast<std::uint64_t>(written));  // one frame per live object, the index, the appends
    CHECK(cat.get("k5").value() == payload(195));
    CHECK_ERRC(cat.get("k3"), Errc::not_found);
    for (int i = 0; i < written; ++i) CHECK(cat.get("live" + std::to_string(i)).value() == payload(static_cast<std::size_t>(i)));
    REQUIRE_OK(c.verify());
    CHECK_FALSE(fs::exists(path + ".compact"));
    // the compacted file reopens with the same contents and takes appends
    auto again = dare::Container::open(path, kFast).value();
    dare::Catalog cat2(again);
    CHECK(cat2.ids().size() == 9 + static_cast<std::size_t>(written));
    REQUIRE_OK(cat2.put("after", payload(1)));
    REQUIRE_OK(again.verify());
}

TEST_CASE("append_all writes the frames single appends would, and none of them when the write fails", "[container][unit]") {
    TempDir dir;
    const auto type = GENERATE(dare::ContainerType::list, dare::ContainerType::digest, dare::ContainerType::chain,
                               dare::ContainerType::tree, dare::ContainerType::merkle);
    INFO(dare::container_type_name(type));
    const std::string one = dir.file("one.dare");
    const std::string all = dir.file("all.dare");
    std::vector<mesh::Bytes> batch;
    for (std::size_t i = 1; i <= 5; ++i) batch.push_back(payload(i));
    const std::vector<std::span<const std::uint8_t>> spans(batch.begin(), batch.end());
    const dare::ContentMeta meta = object("obj");
    {
        auto a = dare::Container::create(one, type, kFast).value();
        auto b = dare::Container::create(all, type, kFast).value();
        for (const auto& p : batch) REQUIRE_OK(a.append(p, meta));
        CHECK(b.append_all(spans, meta).value() == 1);
        for (std::size_t i = 6; i <= 8; ++i) {
            CHECK(a.append(payload(i), meta).value() == i);
            CHECK(b.append(payload(i), meta).value() == i);
        }
        CHECK(b.frames() == 9);
        CHECK(b.read(3).value().payload == payload(3));
        CHECK(b.find("obj").value() == 8);
        REQUIRE_OK(b.verify());
        CHECK_ERRC(b.append_all({}, meta), Errc::invalid_argument);
    }
    CHECK(read_file(one) == read_file(all));  // byte for byte: the same frames

    // A write that fails part-way (the file size limit, EFBIG) leaves no frame of the batch, and
    // the next batch follows the frames before it.
    const auto before = fs::file_size(all);
    CHECK(in_child_with_file_limit(before + 100, [&](const auto& lift) {
        auto c = dare::Container::open(all, kFast).value();
        const bool refused = !c.append_all(spans, meta);
        const bool unchanged = fs::file_size(all) == before;
        lift();
        return refused && unchanged && c.append_all(spans, meta).has_value() && c.frames() == 14 && c.verify().has_value();
    }));
    auto c = dare::Container::open(all, kFast).value();
    CHECK(c.frames() == 14);
    CHECK(c.read(13).value().payload == payload(5));
    REQUIRE_OK(c.verify());
}
