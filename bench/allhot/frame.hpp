// A game's frame loop in miniature: small value types with many small
// methods, entities made of components, and systems that update them every
// frame. Written for the all-hot benchmark (bench/allhot/).
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

struct Vec3 {
  float x = 0, y = 0, z = 0;
  Vec3() = default;
  Vec3(float x, float y, float z) : x(x), y(y), z(z) {}
  Vec3 operator+(const Vec3 &o) const { return {x + o.x, y + o.y, z + o.z}; }
  Vec3 operator-(const Vec3 &o) const { return {x - o.x, y - o.y, z - o.z}; }
  Vec3 operator*(float s) const { return {x * s, y * s, z * s}; }
  Vec3 &operator+=(const Vec3 &o) { x += o.x; y += o.y; z += o.z; return *this; }
  float dot(const Vec3 &o) const { return x * o.x + y * o.y + z * o.z; }
  float length_sq() const { return dot(*this); }
  float length() const { return std::sqrt(length_sq()); }
  Vec3 normalized() const {
    float l = length();
    return l > 1e-6f ? *this * (1.0f / l) : Vec3();
  }
  Vec3 clamped(float max_len) const {
    float l = length();
    return l > max_len ? *this * (max_len / l) : *this;
  }
};

struct Transform {
  Vec3 position;
  float heading = 0;
  void translate(const Vec3 &d) { position += d; }
  void turn(float a) { heading = wrap(heading + a); }
  static float wrap(float a) { return a > 3.14159f ? a - 6.28318f : a < -3.14159f ? a + 6.28318f : a; }
};

struct Body {
  Vec3 velocity;
  Vec3 force;
  float inv_mass = 1;
  void apply_force(const Vec3 &f) { force += f; }
  void clear_forces() { force = Vec3(); }
  Vec3 acceleration() const { return force * inv_mass; }
};

struct Health {
  int hp = 100;
  int regen_timer = 0;
  bool alive() const { return hp > 0; }
  void damage(int d) { hp = hp > d ? hp - d : 0; }
  void tick() { if (++regen_timer >= 30) { regen_timer = 0; if (hp < 100) ++hp; } }
};

class Entity {
public:
  Entity(uint32_t id, Vec3 at) : id_(id) { transform_.position = at; }
  uint32_t id() const { return id_; }
  const Vec3 &position() const { return transform_.position; }
  const Vec3 &velocity() const { return body_.velocity; }
  Transform &transform() { return transform_; }
  Body &body() { return body_; }
  Health &health() { return health_; }
  const Health &health() const { return health_; }
  bool alive() const { return health_.alive(); }
  // Defined in frame_systems.cpp: the per-entity behaviour.
  void think(const Vec3 &target);

private:
  uint32_t id_;
  Transform transform_;
  Body body_;
  Health health_;
};

class World {
public:
  explicit World(int entities);
  void update(float dt);
  double checksum() const;

private:
  void integrate(Entity &e, float dt);
  void collide_ground(Entity &e);
  void gather(Entity &e);
  std::vector<Entity> entities_;
  Vec3 target_;
  uint64_t frame_ = 0;
  double gathered_ = 0;
};
