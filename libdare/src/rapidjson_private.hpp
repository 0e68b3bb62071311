// Private: the one way libdare includes RapidJSON. Its assertions abort in release builds too
// (the default assert vanishes under NDEBUG).
#pragma once

#include <mesh/assert.hpp>

#ifndef RAPIDJSON_ASSERT
#define RAPIDJSON_ASSERT(x) MESH_ASSERT(x)
#endif
#define RAPIDJSON_HAS_STDSTRING 1

#include <rapidjson/encodedstream.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
