#include <mesh_test/support.hpp>
