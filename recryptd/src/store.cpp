#include "store.hpp"

#include <atomic>
#include <mutex>

#include <dare/json.hpp>
#include <mesh/bytes.hpp>
#include <mesh/hash.hpp>
#include <mesh/secure.hpp>

namespace recryptd {
using mesh::Errc;
using mesh::fail;
using mesh::Result;

namespace {
// Object ids: a kind letter and a hash of the natural key (fields may be long; the value says
// what they are).
std::string object_id(char kind, std::initializer_list<std::string_view> parts) {
    mesh::Hasher h(mesh::HashAlg::sha2_512);
    for (const auto p : parts) {
        const std::uint8_t len[2] = {static_cast<std::uint8_t>(p.size() >> 8), static_cast<std::uint8_t>(p.size())};
        h.update(len);
        h.update(mesh::as_bytes(p));
    }
    const auto d = h.finish();
    return std::string(1, kind) + ":" + mesh::base64url_encode(std::span(d).first(18));
}

std::string text(const dare::Json& j) { return dare::to_json(j); }

class ContainerStore final : public Store {
public:
    ContainerStore(dare::Container c, std::unique_ptr<dare::PrivateKeyAgreement> keys)
        : keys_(std::move(keys)), c_(std::move(c)) {}

    Result<void> load(const Visitor& v) override {
        std::vector<std::pair<std::uint64_t, std::string>> order;
        for (const auto& [id, st] : c_.objects()) {
            if (!st.deleted) order.emplace_back(st.frame, id);
        }
        // groups, then members, then entries; each kind in the order it was written
        std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
            const auto rank = [](const std::string& id) { return id[0] == 'g' ? 0 : id[0] == 'm' ? 1 : 2; };
            return std::pair(rank(a.second), a.first) < std::pair(rank(b.second), b.first);
        });
        for (const auto& [frame, id] : order) {
            MESH_ASSIGN_OR_RETURN(const dare::ContainerFrame f, c_.read(frame));
            const std::string where = "store object " + id;
            MESH_ASSIGN_OR_RETURN(const dare::Json j, dare::parse_json(std::string_view(reinterpret_cast<const char*>(f.payload.data()), f.payload.size()),
                                                                   dare::JsonLimits{f.payload.size() + 1, 64}));
            MESH_ASSIGN_OR_RETURN(dare::ObjectReader r, dare::ObjectReader::open(j, where));
            if (id[0] == 'g') {
                MESH_ASSIGN_OR_RETURN(const dare::Json* g, r.value("Group"));
                MESH_TRY(r.finish());
                MESH_ASSIGN_OR_RETURN(recrypt::RecryptionGroup group, recrypt::group_from_json(*g, where + ".Group"));
                MESH_TRY(v.group(std::move(group)));
            } else if (id[0] == 'm') {
                MESH_ASSIGN_OR_RETURN(std::string gid, r.string("GroupID", 256));
                MESH_ASSIGN_OR_RETURN(const dare::Json* m, r.value("Member"));
                MESH_TRY(r.finish());
                MESH_ASSIGN_OR_RETURN(recrypt::MemberEntry member, recrypt::member_from_json(*m, where + ".Member"));
                MESH_TRY(v.member(std::move(gid), std::move(member)));
            } else {
                MESH_ASSIGN_OR_RETURN(std::string gid, r.string("GroupID", 256));
                MESH_ASSIGN_OR_RETURN(const dare::Json* m, r.value("Member"));
                MESH_TRY(r.finish());
                MESH_ASSIGN_OR_RETURN(recrypt::MemberEntry holder, recrypt::member_from_json(*m, where + ".Member"));
                if (holder.entries.size() != 1) return fail(Errc::malformed, where + ": expected one entry");
                MESH_TRY(v.entry(std::move(gid), holder.member_udf, std::move(holder.entries.front())));
            }
        }
        return mesh::ok();
    }

    // The batch's objects in one write: all of them or none (a failed write is cut back), so a
    // transaction that fails on a full disk leaves no part of itself to be loaded at restart.
    Result<void> save(const Batch& b) override {
        const std::lock_guard lock(m_);
        std::vector<std::pair<std::string, std::string>> objects;  // id, text
        objects.reserve(b.groups.size() + b.members.size() + b.entries.size());
        // entries hold recryption keys in the clear until the container encrypts them: wiped
        // however save() returns
        struct Wipe {
            std::vector<std::pair<std::string, std::string>>& o;
            ~Wipe() {
                for (auto& [id, t] : o) mesh::secure_wipe(t.data(), t.size());
            }
        } wipe{objects};
        for (const auto* g : b.groups) {
            recrypt::RecryptionGroup meta = recrypt::clone(*g);
            meta.members.clear();
            objects.emplace_back(object_id('g', {g->group_id}), text(dare::Json(dare::JsonObject{{"Group", recrypt::to_json(meta, true)}})));
        }
        for (const auto& m : b.members) {
            objects.emplace_back(object_id('m', {m.group_id, m.member->member_udf}),
                                 text(dare::Json(dare::JsonObject{{"GroupID", dare::Json(m.group_id)}, {"Member", recrypt::to_json(*m.member, false)}})));
        }
        for (const auto& e : b.entries) {
            recrypt::MemberEntry holder;
            holder.member_udf = e.member_udf;
            holder.entries.push_back(recrypt::clone(*e.entry));
            objects.emplace_back(object_id('e', {e.group_id, e.member_udf, e.entry->encryption_key_udf, e.entry->member_key_udf}),
                                 text(dare::Json(dare::JsonObject{{"GroupID", dare::Json(e.group_id)}, {"Member", recrypt::to_json(holder, true)}})));
        }
        if (objects.empty()) return mesh::ok();
        std::vector<dare::Catalog::Put> puts;
        puts.reserve(objects.size());
        for (const auto& [id, t] : objects) puts.push_back(dare::Catalog::Put{id, mesh::as_bytes(t)});
        if (auto r = dare::Catalog(c_).put_all(puts); !r) {
            healthy_ = false;
            return std::move(r).error();
        }
        appends_ += objects.size();
        auto synced = c_.sync();
        healthy_ = synced.has_value();  // a write that works again makes the store healthy again
        return synced;
    }

    [[nodiscard]] bool healthy() const override { return healthy_; }
    [[nodiscard]] std::uint64_t appends() const override { return appends_; }

private:
    std::unique_ptr<dare::PrivateKeyAgreement> keys_;
    dare::Container c_;
    std::mutex m_;
    std::atomic<bool> healthy_{true};
    std::atomic<std::uint64_t> appends_{0};
};
}  // namespace

Result<std::unique_ptr<Store>> open_container_store(const std::string& path, const dare::PrivateKey& storage_key) {
    auto keys = std::make_unique<dare::PrivateKeyAgreement>();
    keys->add(storage_key);
    dare::ContainerOptions o;
    o.sync = dare::SyncPolicy::none;  // save() syncs once per batch
    o.recipients = {storage_key.public_key()};
    o.keys = keys.get();
    o.max_frame_bytes = std::size_t{64} << 20;
    auto c = dare::Container::open(path, o);
    if (!c && c.error().code == Errc::not_found) c = dare::Container::create(path, dare::ContainerType::chain, o);
    if (!c) return std::move(c).error();
    // Compact at start when most frames are superseded: the file then holds one frame an object.
    std::size_t live = 0;
    for (const auto& [id, st] : c->objects()) live += st.deleted ? 0 : 1;
    if (c->frames() > 2 * live + 1024) MESH_TRY(c->compact());
    return std::unique_ptr<Store>(std::make_unique<ContainerStore>(std::move(c).value(), std::move(keys)));
}

}  // namespace recryptd
