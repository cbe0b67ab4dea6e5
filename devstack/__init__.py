"""Local embedded stack: moto server, dev runner, sample peers. Development only, never deployed."""
