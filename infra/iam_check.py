"""Least privilege, checked statically: the IAM actions each Lambda function's code can call vs the
actions its hand-written policy file grants.

For every function in `.chalice/config.json` `lambda_functions`:

1. find its entry points in `app.py` (`@app.schedule/lambda_function/on_*(name=...)`; every
   `@app.route` belongs to `api_handler`);
2. follow the code it can reach, with `ast` only (nothing is imported): names and imports —
   module-level and the lazy ones inside functions — resolved in `app.py` and `chalicelib/`,
   classes it instantiates, methods by attribute name on those classes, and closures handed to a
   constructor by keyword (`CrawlService(send_message=send)` reaches `send` only where
   `.send_message` is used);
3. collect boto3 calls on clients/resources/tables: a method whose name is an operation of a
   service the code builds clients for (`.put_item(` -> `dynamodb:PutItem`), via botocore's
   service models and `xform_name`, plus `batch_writer()` and `get_paginator("op")`;
4. translate operations to IAM actions (a few differ: `HeadObject` needs `s3:GetObject`,
   `SendMessageBatch` needs `sqs:SendMessage`, ...).

`check()` returns, per function, the actions that are missing (code calls, policy lacks) and
unused (policy grants, code never calls), minus what Lambda itself needs (logs, the event source
mapping's reads, stream OnFailure), and any wildcard action/resource findings.

    python -m infra.iam_check          # prints the report; exit status 1 on any finding
"""
from __future__ import annotations

import ast
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("chalicelib",)  # application code followed from app.py (crawlers/ never touches AWS)

# --- what Lambda itself needs, not the code (the only allow-list) ---------------------------------
# Every function writes its logs through the execution role.
LOGS = frozenset({"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"})
# An SQS event source mapping polls with the function's role (AWSLambdaSQSQueueExecutionRole).
SQS_MAPPING_REQUIRED = frozenset({"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"})
# ...and may extend visibility on a batch it is still working on: permitted, not required.
SQS_MAPPING_OPTIONAL = frozenset({"sqs:ChangeMessageVisibility"})
# A DynamoDB stream mapping reads the stream with the function's role (AWSLambdaDynamoDBExecutionRole)
# and sends exhausted records' metadata to its OnFailure destination queue.
STREAM_MAPPING_REQUIRED = frozenset({
    "dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams",
    "sqs:SendMessage",
})
# s3:ListBucket turns a missing key into 404/NoSuchKey instead of 403: required where the code
# depends on that answer (HeadObject-before-PutObject), permitted next to GetObject.
OPTIONAL_COMPANIONS = {"s3:GetObject": frozenset({"s3:ListBucket"})}

# Operations whose IAM action is not "<service>:<OperationName>".
IAM_ACTIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("s3", "HeadObject"): ("s3:GetObject", "s3:ListBucket"),
    ("s3", "ListObjectsV2"): ("s3:ListBucket",),
    ("s3", "ListObjects"): ("s3:ListBucket",),
    ("s3", "HeadBucket"): ("s3:ListBucket",),
    ("s3", "DeleteObjects"): ("s3:DeleteObject",),
    ("s3", "CopyObject"): ("s3:GetObject", "s3:PutObject"),
    ("s3", "UploadPart"): ("s3:PutObject",),
    ("s3", "CreateMultipartUpload"): ("s3:PutObject",),
    ("s3", "CompleteMultipartUpload"): ("s3:PutObject",),
    ("sqs", "SendMessageBatch"): ("sqs:SendMessage",),
    ("sqs", "DeleteMessageBatch"): ("sqs:DeleteMessage",),
    ("sqs", "ChangeMessageVisibilityBatch"): ("sqs:ChangeMessageVisibility",),
}
# boto3 resource/high-level helpers that are not operations themselves.
HELPERS: dict[str, tuple[str, str]] = {
    "batch_writer": ("dynamodb", "BatchWriteItem"),
    "upload_file": ("s3", "PutObject"),
    "upload_fileobj": ("s3", "PutObject"),
    "download_file": ("s3", "GetObject"),
    "download_fileobj": ("s3", "GetObject"),
}
CLIENT_FACTORIES = {"client", "resource"}  # aws.client("sqs"), boto3.resource("dynamodb")
TABLE_FACTORIES = {"table", "Table"}  # aws.table(name), resource.Table(name) -> dynamodb
DEFAULT_SERVICES = ("dynamodb", "s3", "sqs", "ssm")
LOCALS = " locals"  # scope key (not an identifier): instances bound to local names, for closures
# Methods of builtin containers: on a receiver of unknown type, `.get(` is a dict's, not a store's.
BUILTIN_METHODS = frozenset(
    n for t in (dict, list, set, str, bytes, tuple, frozenset) for n in dir(t) if not n.startswith("_")
)


# --- the source index ------------------------------------------------------------------------------


@dataclass
class Module:
    name: str
    path: Path
    tree: ast.Module
    defs: dict[str, ast.AST] = field(default_factory=dict)  # top-level functions and classes
    imports: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # alias -> (module, attr)
    classes: dict[str, ast.ClassDef] = field(default_factory=dict)


def _module_path(name: str, root: Path) -> Path | None:
    base = root.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _resolve_relative(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    parts = module.split(".")
    is_package = False
    base = parts[: len(parts) - node.level + (1 if is_package else 0)]
    return ".".join(base + ([node.module] if node.module else []))


def _import_aliases(node: ast.AST, module: str) -> dict[str, tuple[str, str | None]]:
    out: dict[str, tuple[str, str | None]] = {}
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.asname:
                out[alias.asname] = (alias.name, None)
            else:
                out[alias.name.split(".")[0]] = (alias.name.split(".")[0], None)
    elif isinstance(node, ast.ImportFrom):
        source = _resolve_relative(module, node)
        for alias in node.names:
            out[alias.asname or alias.name] = (source, alias.name)
    return out


class Index:
    def __init__(self, root: Path = ROOT):
        self.root = root
        self.modules: dict[str, Module] = {}

    def ours(self, name: str) -> bool:
        return name == "app" or any(name == p or name.startswith(p + ".") for p in PACKAGES)

    def module(self, name: str) -> Module | None:
        if not self.ours(name):
            return None
        if name in self.modules:
            return self.modules[name]
        path = _module_path(name, self.root)
        if path is None:
            return None
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        mod = Module(name, path, tree)
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                mod.defs[node.name] = node
            elif isinstance(node, ast.ClassDef):
                mod.defs[node.name] = node
                mod.classes[node.name] = node
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                mod.imports.update(_import_aliases(node, name if path.name != "__init__.py" else name + ".x"))
        self.modules[name] = mod
        return mod

    def all_modules(self) -> Iterable[Module]:
        for package in PACKAGES:
            for path in sorted((self.root / package).rglob("*.py")):
                rel = path.relative_to(self.root).with_suffix("")
                parts = list(rel.parts)
                if parts[-1] == "__init__":
                    parts.pop()
                found = self.module(".".join(parts))
                if found:
                    yield found


# --- boto3 operations --------------------------------------------------------------------------


def service_operations(services: Iterable[str]) -> dict[str, set[tuple[str, str]]]:
    """snake_case method name -> {(service, OperationName)} for the given services (botocore models)."""
    import botocore.session
    from botocore import xform_name

    session = botocore.session.get_session()
    out: dict[str, set[tuple[str, str]]] = {}
    for service in services:
        for operation in session.get_service_model(service).operation_names:
            out.setdefault(xform_name(operation), set()).add((service, operation))
    return out


def services_used(index: Index) -> set[str]:
    """Services the application builds boto3 clients/resources for (string literal arguments)."""
    found: set[str] = set()
    for mod in index.all_modules():
        for node in ast.walk(mod.tree):
            if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
                name = _callee_name(node.func)
                if name in CLIENT_FACTORIES and isinstance(node.args[0].value, str):
                    found.add(node.args[0].value)
                elif name in TABLE_FACTORIES:
                    found.add("dynamodb")
    return (found or set(DEFAULT_SERVICES)) & _known_services()


def _known_services() -> set[str]:
    import botocore.session

    return set(botocore.session.get_session().get_available_services())


def _callee_name(func: ast.AST) -> str | None:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def iam_actions(service: str, operation: str) -> tuple[str, ...]:
    return IAM_ACTIONS.get((service, operation), (f"{service}:{operation}",))


# --- reachability --------------------------------------------------------------------------------


@dataclass
class Call:
    module: str
    line: int
    method: str
    actions: tuple[str, ...]


class Reach:
    """Everything one function's entry points can reach, and the boto3 calls in it."""

    def __init__(self, index: Index, operations: dict[str, set[tuple[str, str]]]):
        self.index = index
        self.operations = operations
        self.loaded: set[str] = set()
        self.reached: set[int] = set()  # id() of function nodes walked
        self.queue: list[tuple[ast.AST, Module, dict[str, tuple[str, str | None]], ast.ClassDef | None]] = []
        self.instantiated: dict[int, tuple[ast.ClassDef, Module]] = {}
        self.attributes: set[str] = set()
        self.deferred: dict[str, list[tuple[ast.AST, Module, dict, ast.ClassDef | None]]] = {}
        self.calls: list[Call] = []
        self.project_attrs = _project_attribute_names(index)

    # entry
    def run(self, entries: list[tuple[ast.AST, Module]]) -> Reach:
        for node, mod in entries:
            self._load(mod.name)
            self._enqueue(node, mod, {}, None)
        while self.queue:
            node, mod, scope, cls = self.queue.pop()
            self._walk_function(node, mod, scope, cls)
        return self

    @property
    def actions(self) -> set[str]:
        return {a for call in self.calls for a in call.actions}

    def _enqueue(self, node: ast.AST, mod: Module, scope: dict, cls: ast.ClassDef | None) -> None:
        if id(node) in self.reached:
            return
        self.reached.add(id(node))
        self.queue.append((node, mod, scope, cls))

    def _load(self, name: str) -> Module | None:
        mod = self.index.module(name)
        if mod is None or name in self.loaded:
            return mod
        self.loaded.add(name)
        # module-level statements run on import (loggers, constants, registries)
        body = [n for n in mod.tree.body if not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
        self._enqueue(ast.Module(body=body, type_ignores=[]), mod, {}, None)
        if "." in name:  # a package's __init__ runs first
            self._load(name.rsplit(".", 1)[0])
        return mod

    def _instantiate(self, cls: ast.ClassDef, mod: Module) -> None:
        if id(cls) in self.instantiated:
            return
        self.instantiated[id(cls)] = (cls, mod)
        class_body = [n for n in cls.body if not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        self._enqueue(ast.Module(body=class_body + list(cls.bases), type_ignores=[]), mod, {}, cls)
        for base in cls.bases:
            self._reference(base, mod, {}, cls)
        for item in cls.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and (
                item.name in {"__init__", "__post_init__", "__enter__", "__exit__", "__iter__"}
                or item.name in self.attributes
            ):
                self._enqueue(item, mod, {}, cls)

    def _attribute(self, name: str) -> None:
        if name in self.attributes:
            return
        self.attributes.add(name)
        for cls, mod in list(self.instantiated.values()):
            for item in cls.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == name:
                    self._enqueue(item, mod, {}, cls)
        for node, mod, scope, cls in self.deferred.pop(name, []):
            self._enqueue(node, mod, scope, cls)

    def _target(self, module: str, attr: str | None, depth: int = 0) -> None:
        """Reach what `from module import attr` (or `import module`) names."""
        if depth > 5:
            return
        if attr is None:
            self._load(module)
            return
        sub = f"{module}.{attr}"
        if self.index.module(sub) is not None:
            self._load(sub)
            return
        mod = self._load(module)
        if mod is None:
            return
        node = mod.defs.get(attr)
        if isinstance(node, ast.ClassDef):
            self._instantiate(node, mod)
        elif node is not None:
            self._enqueue(node, mod, {}, None)
        elif attr in mod.imports:
            self._target(*mod.imports[attr], depth=depth + 1)

    def _resolve(self, name: str, mod: Module, scope: dict) -> tuple[str, str | None] | None:
        if name in scope:
            return scope[name]
        if name in mod.defs:
            return (mod.name, name)
        if name in mod.imports:
            return mod.imports[name]
        return None

    def _reference(self, node: ast.AST, mod: Module, scope: dict, cls: ast.ClassDef | None) -> None:
        if isinstance(node, ast.Name):
            found = self._resolve(node.id, mod, scope)
            if found and self.index.ours(found[0]):
                self._target(*found)

    # the walk
    def _walk_function(self, fn: ast.AST, mod: Module, outer: dict, cls: ast.ClassDef | None) -> None:
        scope = dict(outer)
        local_defs: dict[str, ast.AST] = {}
        body_nodes = list(_own_nodes(fn))
        for node in body_nodes:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                aliases = _import_aliases(node, mod.name if mod.path.name != "__init__.py" else mod.name + ".x")
                scope.update(aliases)
                for source, attr in aliases.values():
                    if self.index.ours(source):
                        self._target(source, attr)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node is not fn:
                local_defs[node.name] = node
        keyword_bound: dict[int, str] = {}
        local_instances: dict[str, list] = dict(scope.get(LOCALS, {}))  # name -> classes it holds
        for node in body_nodes:
            if isinstance(node, ast.keyword) and node.arg and isinstance(node.value, ast.Name):
                keyword_bound[id(node.value)] = node.arg
            elif isinstance(node, ast.keyword) and node.arg and isinstance(node.value, ast.Call):
                # a callable object handed to a constructor field: its __call__ runs where the
                # field is called (`FanoutService(enqueue=Enqueuer(...))` ... `self.enqueue(...)`)
                for klass, kmod in self._class_of(node.value, mod, scope):
                    for item in klass.body:
                        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == "__call__":
                            self.deferred.setdefault(node.arg, []).append((item, kmod, {}, klass))
                    if node.arg in self.attributes:
                        self._attribute_again(node.arg)
            elif (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                  and isinstance(node.value, ast.Call)):
                found = self._class_of(node.value, mod, scope)
                if found:
                    local_instances[node.targets[0].id] = found
        scope = {**scope, LOCALS: local_instances}
        for node in body_nodes:  # calling a local instance runs its __call__
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in local_instances and node.func.id not in local_defs):
                for klass, kmod in local_instances[node.func.id]:
                    for item in klass.body:
                        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == "__call__":
                            self._enqueue(item, kmod, {}, klass)
        for node in body_nodes:
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                if node.id in local_defs:
                    target = local_defs[node.id]
                    if id(node) in keyword_bound:  # a closure handed to a constructor field
                        self.deferred.setdefault(keyword_bound[id(node)], []).append((target, mod, scope, cls))
                        if keyword_bound[id(node)] in self.attributes:
                            self._attribute_again(keyword_bound[id(node)])
                    else:
                        self._enqueue(target, mod, scope, cls)
                else:
                    self._reference(node, mod, scope, cls)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
                base = node.value
                found = self._resolve(base.id, mod, scope) if isinstance(base, ast.Name) else None
                if found and self.index.ours(found[0]) and self._is_module(found):
                    module_name = found[0] if found[1] is None else f"{found[0]}.{found[1]}"
                    self._target(module_name, node.attr)
                    continue
                known = self._receiver_classes(base, fn, mod, scope, cls)
                if known is not None:  # the receiver's class is known: only its methods
                    for klass, kmod in known:
                        self._instantiate(klass, kmod)
                        for item in klass.body:
                            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == node.attr:
                                self._enqueue(item, kmod, {}, klass)
                    self._attribute_again(node.attr)
                elif node.attr not in BUILTIN_METHODS and node.attr not in self.operations:
                    # unknown receiver: any method of that name (a boto3 operation name on an
                    # unknown receiver is the boto3 call, not the application's method)
                    self._attribute(node.attr)
            elif isinstance(node, ast.Call):
                self._boto_call(node, mod, cls)

    # receiver types, from what the code itself declares
    def _class_of(self, expr: ast.AST | None, mod: Module, scope: dict) -> list[tuple[ast.ClassDef, Module]]:
        """Project classes named by an annotation or constructor expression (`X`, `X | None`,
        `Optional[X]`, `mod.X`, `X(...)`)."""
        if expr is None:
            return []
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            try:
                expr = ast.parse(expr.value, mode="eval").body
            except SyntaxError:
                return []
        if isinstance(expr, ast.Call):
            return self._class_of(expr.func, mod, scope)
        out: list[tuple[ast.ClassDef, Module]] = []
        if isinstance(expr, ast.Name):
            found = self._resolve(expr.id, mod, scope)
            if found and found[1] is not None:
                out += self._lookup_class(found[0], found[1])
        elif isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name):
            found = self._resolve(expr.value.id, mod, scope)
            if found and self._is_module(found):
                out += self._lookup_class(found[0] if found[1] is None else f"{found[0]}.{found[1]}", expr.attr)
        elif isinstance(expr, ast.BinOp):
            out += self._class_of(expr.left, mod, scope) + self._class_of(expr.right, mod, scope)
        elif isinstance(expr, ast.Subscript):
            inner = expr.slice
            for part in (inner.elts if isinstance(inner, ast.Tuple) else [inner]):
                out += self._class_of(part, mod, scope)
        return out

    def _lookup_class(self, module: str, name: str, depth: int = 0) -> list[tuple[ast.ClassDef, Module]]:
        target = self.index.module(module)
        if target is None or depth > 5:
            return []
        node = target.defs.get(name)
        if isinstance(node, ast.ClassDef):
            return [(node, target)]
        if name in target.imports:
            return self._lookup_class(*target.imports[name], depth=depth + 1) if target.imports[name][1] else []
        return []

    def _receiver_classes(self, base: ast.AST, fn: ast.AST, mod: Module, scope: dict,
                          cls: ast.ClassDef | None) -> list[tuple[ast.ClassDef, Module]] | None:
        """The project classes `base` is an instance of, or None when not known statically."""
        if isinstance(base, ast.Name) and base.id in ("self", "cls") and cls is not None:
            return [(cls, mod)] + [c for b in cls.bases for c in self._class_of(b, mod, {})]
        if (isinstance(base, ast.Attribute) and isinstance(base.value, ast.Name)
                and base.value.id == "self" and cls is not None):
            found = self._field_classes(cls, base.attr, mod)
            return found or None
        if isinstance(base, ast.Name) and isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for arg in fn.args.args + fn.args.kwonlyargs:
                if arg.arg == base.id and arg.annotation is not None:
                    return self._class_of(arg.annotation, mod, scope) or None
            for node in _own_nodes(fn):
                if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                        and node.targets[0].id == base.id and isinstance(node.value, ast.Call)):
                    return self._class_of(node.value, mod, scope) or None
        return None

    def _field_classes(self, cls: ast.ClassDef, name: str, mod: Module) -> list[tuple[ast.ClassDef, Module]]:
        for item in cls.body:
            if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name) and item.target.id == name:
                return self._class_of(item.annotation, mod, {})
        for method in (i for i in cls.body if isinstance(i, (ast.FunctionDef, ast.AsyncFunctionDef))):
            params = {a.arg: a.annotation for a in method.args.args + method.args.kwonlyargs}
            for node in ast.walk(method):
                if not isinstance(node, ast.Assign):
                    continue
                for target in node.targets:
                    if (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
                            and target.value.id == "self" and target.attr == name):
                        if isinstance(node.value, ast.Call):
                            found = self._class_of(node.value, mod, {})
                            if found:
                                return found
                        if isinstance(node.value, ast.Name) and params.get(node.value.id) is not None:
                            found = self._class_of(params[node.value.id], mod, {})
                            if found:
                                return found
        return []

    def _attribute_again(self, name: str) -> None:
        for node, mod, scope, cls in self.deferred.pop(name, []):
            self._enqueue(node, mod, scope, cls)

    def _is_module(self, found: tuple[str, str | None]) -> bool:
        module, attr = found
        name = module if attr is None else f"{module}.{attr}"
        return self.index.module(name) is not None

    def _boto_call(self, node: ast.Call, mod: Module, cls: ast.ClassDef | None) -> None:
        # An operation handed over uncalled runs where the callee calls it:
        # `aws.all_items(self.table.query, ...)` is a Query.
        for arg in node.args:
            if isinstance(arg, ast.Attribute) and arg.attr in self.operations:
                self._boto_call(ast.Call(func=arg, args=[], keywords=[], lineno=node.lineno), mod, cls)
        func = node.func
        if not isinstance(func, ast.Attribute):
            return
        method = func.attr
        receiver = func.value
        if isinstance(receiver, ast.Name) and receiver.id in ("self", "cls") and method in self.project_attrs:
            return  # the application's own method or callable field, not a boto3 operation
        pairs: set[tuple[str, str]] = set()
        if method in HELPERS:
            pairs = {HELPERS[method]}
        elif method == "get_paginator" and node.args and isinstance(node.args[0], ast.Constant):
            pairs = set(self.operations.get(str(node.args[0].value), set()))
        elif method in self.operations and not (isinstance(receiver, ast.Name) and receiver.id in mod.imports and
                                                self.index.ours(mod.imports[receiver.id][0])):
            pairs = set(self.operations[method])
        if not pairs:
            return
        actions = tuple(sorted({a for svc, op in pairs for a in iam_actions(svc, op)}))
        self.calls.append(Call(mod.name, getattr(node, "lineno", 0), method, actions))


def _own_nodes(fn: ast.AST) -> Iterable[ast.AST]:
    """Every node of a function body, descending into lambdas and comprehensions but not into
    nested function/class definitions (those are yielded, and reached only when referenced)."""
    roots = fn.body if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)) else [fn]
    if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
        roots = list(fn.decorator_list) + list(fn.args.defaults) + list(fn.args.kw_defaults or []) + list(fn.body)
        roots = [r for r in roots if r is not None]
    stack = list(roots)
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)  # `if TYPE_CHECKING:` imports never run
            continue
        stack.extend(ast.iter_child_nodes(node))


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _project_attribute_names(index: Index) -> set[str]:
    """Method names, class-level fields and `self.x = ...` attributes of the application's classes."""
    names: set[str] = set()
    for mod in index.all_modules():
        for cls in (n for n in ast.walk(mod.tree) if isinstance(n, ast.ClassDef)):
            for item in cls.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    names.add(item.name)
                elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    names.add(item.target.id)
            for node in ast.walk(cls):
                if (isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store)
                        and isinstance(node.value, ast.Name) and node.value.id == "self"):
                    names.add(node.attr)
    return names


# --- entry points, config, policies -------------------------------------------------------------


def entry_points(index: Index) -> dict[str, list[tuple[ast.AST, Module]]]:
    """Chalice function name -> its handler function(s) in app.py."""
    app = index.module("app")
    assert app is not None, "app.py not found"
    out: dict[str, list[tuple[ast.AST, Module]]] = {}
    for node in app.tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for decorator in node.decorator_list:
            if not (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)):
                continue
            kind = decorator.func.attr
            if kind == "route":
                name = "api_handler"
            elif kind in {"schedule", "lambda_function", "on_sqs_message", "on_s3_event", "on_sns_message",
                          "on_cw_event", "on_dynamodb_record", "on_kinesis_record", "authorizer"}:
                name = next((k.value.value for k in decorator.keywords
                             if k.arg == "name" and isinstance(k.value, ast.Constant)), node.name)
            else:
                continue
            out.setdefault(name, []).append((node, app))
    return out


def lambda_functions(config_path: Path = ROOT / ".chalice" / "config.json") -> dict[str, dict[str, Any]]:
    """Function name -> settings over every stage (`policy_files`: each stage's file)."""
    out: dict[str, dict[str, Any]] = {}
    for functions in stage_functions(config_path).values():
        for name, settings in functions.items():
            out.setdefault(name, {}).setdefault("policy_files", set()).add(settings.get("iam_policy_file"))
            out[name].setdefault("memory_mb", settings.get("lambda_memory_size", 128))
    return out


def stage_functions(config_path: Path = ROOT / ".chalice" / "config.json") -> dict[str, dict[str, dict[str, Any]]]:
    """Stage -> function name -> its settings in `.chalice/config.json`."""
    config = json.loads(config_path.read_text())
    return {stage: dict(body.get("lambda_functions") or {}) for stage, body in config.get("stages", {}).items()}


def policy_findings(policy: dict[str, Any]) -> tuple[set[str], list[str]]:
    """The actions a policy allows, and wildcard/shape problems found in it."""
    actions: set[str] = set()
    problems: list[str] = []
    for position, statement in enumerate(policy.get("Statement", [])):
        where = f"Statement[{position}]"
        for forbidden in ("NotAction", "NotResource", "NotPrincipal"):
            if forbidden in statement:
                problems.append(f"{where}: {forbidden} is not allowed")
        if statement.get("Effect") != "Allow":
            continue
        listed = statement.get("Action", [])
        listed = [listed] if isinstance(listed, str) else list(listed)
        for action in listed:
            if action == "*" or action.endswith(":*") or "*" in action:
                problems.append(f"{where}: wildcard action {action!r}")
            actions.add(action)
        resources = statement.get("Resource", [])
        resources = [resources] if isinstance(resources, str) else list(resources)
        if not resources:
            problems.append(f"{where}: no Resource")
        for resource in resources:
            if resource == "*" or not resource.startswith("arn:aws:"):
                problems.append(f"{where}: resource {resource!r} does not name an ARN")
                continue
            parts = resource.split(":", 5)
            if len(parts) < 6 or parts[5] in {"", "*"} or parts[5].startswith("*") or parts[2] == "*":
                problems.append(f"{where}: resource {resource!r} does not name a resource")
    return actions, problems


def mapping_kinds() -> dict[str, str]:
    """Function name -> 'sqs' | 'stream' for functions fed by an event source mapping."""
    sys.path.insert(0, str(ROOT)) if str(ROOT) not in sys.path else None
    from chalicelib import resources

    out: dict[str, str] = {}
    for mapping in resources.MAPPINGS:
        source = resources.by_logical_id(mapping.source)
        out[mapping.function] = "stream" if isinstance(source, resources.Table) else "sqs"
    return out


@dataclass
class Result:
    function: str
    policy_file: str
    code_actions: set[str]
    policy_actions: set[str]
    missing: set[str]
    unused: set[str]
    problems: list[str]
    calls: list[Call]
    stage: str = ""

    @property
    def ok(self) -> bool:
        return not (self.missing or self.unused or self.problems)


def analyse(root: Path = ROOT) -> dict[str, Reach]:
    index = Index(root)
    operations = service_operations(services_used(index))
    entries = entry_points(index)
    return {name: Reach(index, operations).run(nodes) for name, nodes in entries.items()}


def check(root: Path = ROOT, *, resources: bool = True) -> list[Result]:
    """One Result per (stage, function). `resources`: also check every policy resource against
    the names the deploy template gives that stage (infra.resource_names), and refuse patterns
    that reach another stage's resources."""
    by_stage = stage_functions(root / ".chalice" / "config.json")
    reaches = analyse(root)
    kinds = mapping_kinds()
    names = None
    if resources:
        from infra.resource_names import stage_names

        names = {stage: stage_names(stage, root) for stage in by_stage}
    results = []
    for stage, functions in by_stage.items():
        for name, settings in sorted(functions.items()):
            problems: list[str] = []
            policy_file = settings.get("iam_policy_file")
            if not policy_file:
                problems.append("no iam_policy_file")
                results.append(Result(name, "", set(), set(), set(), set(), problems, [], stage))
                continue
            if len(by_stage) > 1 and Path(policy_file).parent.name != stage:
                problems.append(f"stage {stage!r} uses {policy_file}, not a file of its own (policies/{stage}/...)")
            policy = json.loads((root / ".chalice" / policy_file).read_text())
            policy_actions, policy_problems = policy_findings(policy)
            problems += policy_problems
            if names is not None:
                others = [n for s, n in names.items() if s != stage]
                problems += resource_findings(policy, names[stage], others)
            reach = reaches.get(name)
            if reach is None:
                problems.append("no handler in app.py")
                code = set()
                calls: list[Call] = []
            else:
                code, calls = reach.actions, reach.calls
            required = set(LOGS)
            permitted = set(LOGS)
            kind = kinds.get(name)
            if kind == "sqs":
                required |= SQS_MAPPING_REQUIRED
                permitted |= SQS_MAPPING_REQUIRED | SQS_MAPPING_OPTIONAL
            elif kind == "stream":
                required |= STREAM_MAPPING_REQUIRED
                permitted |= STREAM_MAPPING_REQUIRED
            for action, companions in OPTIONAL_COMPANIONS.items():
                if action in code:
                    permitted |= companions
            missing = (code | required) - policy_actions
            unused = policy_actions - code - permitted
            results.append(Result(name, policy_file, code, policy_actions, missing, unused, problems, calls, stage))
    return results


def resource_findings(policy: dict[str, Any], own: Any, others: list[Any]) -> list[str]:
    """Every Allow resource must name something the stage's template creates (`own`, a
    resource_names.StageNames), in the service of the statement's actions, and nothing of
    another stage (`others`)."""
    problems: list[str] = []
    for position, statement in enumerate(policy.get("Statement", [])):
        if statement.get("Effect") != "Allow":
            continue
        where = f"Statement[{position}]"
        actions = statement.get("Action", [])
        services = {a.split(":", 1)[0] for a in ([actions] if isinstance(actions, str) else actions)}
        resources = statement.get("Resource", [])
        for resource in [resources] if isinstance(resources, str) else resources:
            if not resource.startswith("arn:aws:") or resource == "*":
                continue  # policy_findings reports these
            service = resource.split(":", 3)[2]
            if services and service not in services:
                problems.append(f"{where}: resource {resource!r} is a {service} ARN, actions are {sorted(services)}")
            if not own.matches(resource):
                problems.append(f"{where}: resource {resource!r} names nothing in the {own.stage!r} template "
                                f"({own.hint(service)})")
            for other in others:
                hit = other.matches(resource)
                if hit:
                    problems.append(f"{where}: resource {resource!r} also reaches stage {other.stage!r} "
                                    f"({hit}): cross-stage wildcard")
    return problems


def report(results: list[Result]) -> str:
    lines = []
    for r in results:
        lines.append(f"{'ok  ' if r.ok else 'FAIL'} {r.stage + ' ' if r.stage else ''}{r.function} ({r.policy_file}): "
                     f"code calls {sorted(r.code_actions)}")
        for action in sorted(r.missing):
            where = sorted({f"{c.module}:{c.line} .{c.method}()" for c in r.calls if action in c.actions})
            lines.append(f"     missing {action}  <- {', '.join(where) or 'Lambda runtime'}")
        for action in sorted(r.unused):
            lines.append(f"     unused  {action}")
        for problem in r.problems:
            lines.append(f"     policy  {problem}")
    return "\n".join(lines)


def main() -> int:
    results = check()
    print(report(results))
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
