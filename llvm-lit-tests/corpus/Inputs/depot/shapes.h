// A small class hierarchy with virtual calls: the depot's package shapes.
#pragma once
#include <memory>
#include <string>
#include <vector>

enum class Kind { Circle, Square, Triangle, Hexagon, Star, Ring };

const char *kind_name(Kind k);
char kind_symbol(Kind k);

class Shape {
public:
  Shape(Kind k, double size);
  virtual ~Shape();
  virtual double area() const = 0;
  virtual double perimeter() const = 0;
  virtual const char *name() const;
  virtual std::string describe() const;
  Kind kind() const { return kind_; }
  double size() const { return size_; }

protected:
  Kind kind_;
  double size_;
};

class Circle final : public Shape {
public:
  explicit Circle(double r) : Shape(Kind::Circle, r) {}
  double area() const override;
  double perimeter() const override;
};

class Square final : public Shape {
public:
  explicit Square(double side) : Shape(Kind::Square, side) {}
  double area() const override;
  double perimeter() const override;
};

class Triangle final : public Shape {
public:
  explicit Triangle(double side) : Shape(Kind::Triangle, side) {}
  double area() const override;
  double perimeter() const override;
  const char *name() const override;
};

class Hexagon final : public Shape {
public:
  explicit Hexagon(double side) : Shape(Kind::Hexagon, side) {}
  double area() const override;
  double perimeter() const override;
  std::string describe() const override;
};

class Star final : public Shape {
public:
  Star(double size, int points) : Shape(Kind::Star, size), points_(points) {}
  double area() const override;
  double perimeter() const override;
  const char *name() const override;

private:
  int points_;
};

class Ring final : public Shape {
public:
  Ring(double outer, double inner) : Shape(Kind::Ring, outer), inner_(inner) {}
  double area() const override;
  double perimeter() const override;

private:
  double inner_;
};

std::unique_ptr<Shape> make_shape(Kind k, double size);
std::vector<std::unique_ptr<Shape>> &gallery();
