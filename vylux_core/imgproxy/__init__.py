"""imgproxy's URL dialect: option grammar, signature, geometry and the service."""
