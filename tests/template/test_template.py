"""template.yaml: the wiring DESIGN.md relies on, checked on SAM's own transform, offline.

The SAM template is read with a loader that understands CloudFormation's short tags, its local
``CodeUri``/``ContentUri`` paths are replaced by S3 URIs (what ``sam package`` does), and
``samtranslator`` expands it into the CloudFormation ``sam deploy`` would create — no AWS account,
no network. Each test reads one promise of the design off the result.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any, ClassVar, cast

import pytest
import yaml
from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader
from samtranslator.translator.transform import transform

from webhook_translator.config import Settings

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"

SQS_MAX_RETENTION_SECONDS = 14 * 24 * 3600
POWERTOOLS_ENV = {
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_LOG_LEVEL",
    "POWERTOOLS_TRACE_DISABLED",
    # read by pydantic: no plugin entry-point scan at the first schema build (cold start)
    "PYDANTIC_DISABLE_PLUGINS",
}
APP_ENV = {
    "receiver": {
        "QUEUE_URL",
        "SECRET_ID",
        "MAX_BODY_BYTES",
        "SECRET_MAX_AGE",
        "TRANSLATOR_CONFIG",
        "TRANSLATOR_CONFIG_FILE",
        "TRANSLATOR_CONFIG_PARAMETER",
        "ENABLED_SOURCES",
    },
    "forwarder": {
        "QUEUE_URL",
        "DLQ_URL",
        "SECRET_ID",
        "OURS_API_URL",
        "MAX_RECEIVE_COUNT",
        "QUEUE_RETENTION_SECONDS",
        "RETRY_MAX_DELAY",
        "OUTAGE_BUDGET_SECONDS",
        "AUTH_GRACE_SECONDS",
        "STALE_EVENT_POLICY",
        "TRANSLATOR_CONFIG",
        "TRANSLATOR_CONFIG_FILE",
        "TRANSLATOR_CONFIG_PARAMETER",
        "SECRET_MAX_AGE",
        "ENABLED_SOURCES",
    },
}
CODE_URI = {"receiver": "functions/receiver/", "forwarder": "functions/forwarder/"}
OUTPUTS = {"WebhookBaseUrl", "QueueUrl", "DlqUrl", "SecretArn", "ReceiverFunctionName", "ForwarderFunctionName"}


# ---------------------------------------------------------------------------------------------- loading


class CfnLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` plus CloudFormation's short tags (``!Ref X`` → ``{"Ref": "X"}``, …)."""


def _construct_intrinsic(loader: CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        assert isinstance(node, yaml.MappingNode)
        value = loader.construct_mapping(node, deep=True)
    if suffix in ("Ref", "Condition"):
        return {suffix: value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


CfnLoader.add_multi_constructor("!", _construct_intrinsic)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    with path.open(encoding="utf-8") as stream:
        document: dict[str, Any] = yaml.load(stream, Loader=CfnLoader)  # a SafeLoader subclass
    return document


class StubManagedPolicyLoader:
    """Stands in for samtranslator's IAM-backed loader: fixed ARNs, no AWS call."""

    POLICIES: ClassVar[dict[str, str]] = {
        "AWSLambdaBasicExecutionRole": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        "AWSXRayDaemonWriteAccess": "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess",
        "AWSXrayWriteOnlyAccess": "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
    }

    def load(self) -> dict[str, str]:
        return dict(self.POLICIES)


def packaged(template: dict[str, Any]) -> dict[str, Any]:
    """What ``sam package`` hands to the transform: local code paths replaced by S3 URIs."""
    result = copy.deepcopy(template)
    for name, resource in result["Resources"].items():
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(properties.get(key), str):
                properties[key] = f"s3://artifacts/{name}.zip"
    return result


@pytest.fixture(scope="module")
def sam() -> dict[str, Any]:
    return load_template()


@pytest.fixture(scope="module")
def cfn(sam: dict[str, Any]) -> dict[str, Any]:
    # samtranslator asks a boto3 session (never the network) for the region and partition.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        patch.delenv("AWS_PROFILE", raising=False)
        loader = cast(ManagedPolicyLoader, StubManagedPolicyLoader())
        transformed: dict[str, Any] = transform(packaged(sam), {}, loader)
    return transformed


# ---------------------------------------------------------------------------------------------- helpers


def of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == resource_type}


def props(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    properties: dict[str, Any] = template["Resources"][logical_id].get("Properties", {})
    return properties


def getatt_target(value: Any) -> str:
    """``{"Fn::GetAtt": ["X", "Arn"]}`` → ``"X"``."""
    assert isinstance(value, dict), value
    assert "Fn::GetAtt" in value, value
    target: str = value["Fn::GetAtt"][0]
    return target


def resolve(value: Any, template: dict[str, Any], overrides: dict[str, Any] | None = None) -> Any:
    """Evaluate literals, ``Ref`` to a parameter (its default) and ``Fn::FindInMap``."""
    overrides = overrides or {}
    if isinstance(value, dict) and len(value) == 1:
        ((fn, arg),) = value.items()
        if fn == "Ref" and arg in template.get("Parameters", {}):
            return overrides.get(arg, template["Parameters"][arg].get("Default"))
        if fn == "Fn::FindInMap":
            mapping, top, second = (resolve(a, template, overrides) for a in arg)
            return template["Mappings"][mapping][str(top)][second]
    if isinstance(value, dict | list):
        raise ValueError(f"not a constant: {value!r}")
    return value


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@pytest.fixture(scope="module")
def functions(sam: dict[str, Any]) -> dict[str, str]:
    """``{"receiver": <logical id>, "forwarder": <logical id>}``, found by their code location."""
    by_code = {r["Properties"].get("CodeUri"): name for name, r in of_type(sam, "AWS::Serverless::Function").items()}
    return {role: by_code[uri] for role, uri in CODE_URI.items() if uri in by_code}


@pytest.fixture(scope="module")
def queues(cfn: dict[str, Any], functions: dict[str, str]) -> dict[str, str]:
    """``{"queue": ..., "dlq": ...}``: the queue the forwarder consumes, and where it redrives to."""
    (mapping,) = of_type(cfn, "AWS::Lambda::EventSourceMapping").values()
    queue = getatt_target(mapping["Properties"]["EventSourceArn"])
    dlq = getatt_target(props(cfn, queue)["RedrivePolicy"]["deadLetterTargetArn"])
    return {"queue": queue, "dlq": dlq}


def statements(template: dict[str, Any], role: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for policy in props(template, role).get("Policies", []):
        for statement in as_list(policy["PolicyDocument"]["Statement"]):
            # a conditional statement ({"Fn::If": [condition, statement, AWS::NoValue]}) counts as granted
            if "Fn::If" in statement:
                statement = statement["Fn::If"][1]
            found.append(statement)
    for other in of_type(template, "AWS::IAM::Policy").values():
        if {"Ref": role} in other["Properties"].get("Roles", []):
            found += as_list(other["Properties"]["PolicyDocument"]["Statement"])
    return found


def grants(template: dict[str, Any], role: str, service: str) -> dict[str, set[str]]:
    """``{json(resource): {actions}}`` of the role's Allow statements for one service prefix."""
    result: dict[str, set[str]] = {}
    for statement in statements(template, role):
        assert statement["Effect"] == "Allow"
        actions = {a for a in as_list(statement["Action"]) if a.lower().startswith(f"{service}:")}
        for resource in as_list(statement["Resource"]):
            if actions:
                result.setdefault(json.dumps(resource, sort_keys=True), set()).update(actions)
    return result


def role_of(template: dict[str, Any], function: str) -> str:
    return getatt_target(props(template, function)["Role"])


# ---------------------------------------------------------------------------------------------- SQS wiring


def test_forwarder_reads_the_queue_in_batches_of_parameters_with_partial_failures(
    cfn: dict[str, Any], functions: dict[str, str], queues: dict[str, str]
) -> None:
    # Given the transformed template
    # When the forwarder's SQS event source mapping is read
    (mapping,) = of_type(cfn, "AWS::Lambda::EventSourceMapping").values()
    esm = mapping["Properties"]
    # Then it feeds the forwarder from the webhook queue, reporting failures per message
    assert esm["FunctionName"] == {"Ref": functions["forwarder"]}
    assert "ReportBatchItemFailures" in esm["FunctionResponseTypes"]
    assert esm["BatchSize"] == {"Ref": "BatchSize"}
    assert esm["MaximumBatchingWindowInSeconds"] == {"Ref": "MaximumBatchingWindowInSeconds"}
    # And by default up to 100 records per invocation, which SQS allows only with a batching window
    assert resolve(esm["BatchSize"], cfn) == 100
    assert cfn["Parameters"]["BatchSize"]["MaxValue"] == 100
    assert 1 <= resolve(esm["MaximumBatchingWindowInSeconds"], cfn) <= 5
    # And its concurrency is capped by a parameter that cannot go below SQS's minimum of 2
    concurrency = esm["ScalingConfig"]["MaximumConcurrency"]
    parameter = cfn["Parameters"][concurrency["Ref"]]
    assert parameter["MinValue"] >= 2
    assert parameter["Default"] >= 2


def test_queue_visibility_timeout_is_at_least_six_forwarder_timeouts(
    cfn: dict[str, Any], functions: dict[str, str], queues: dict[str, str]
) -> None:
    # Given the forwarder's timeout and the queue it consumes
    timeout = resolve(props(cfn, functions["forwarder"])["Timeout"], cfn)
    # When the queue's visibility timeout is evaluated
    visibility = resolve(props(cfn, queues["queue"])["VisibilityTimeout"], cfn)
    # Then it leaves room for six invocations (AWS guidance for SQS event sources)
    assert timeout == 30
    assert visibility >= 6 * timeout


def test_redrive_goes_to_the_dlq_after_the_count_the_forwarder_is_told(
    cfn: dict[str, Any], functions: dict[str, str], queues: dict[str, str]
) -> None:
    # Given the queue's redrive policy
    redrive = props(cfn, queues["queue"])["RedrivePolicy"]
    # When it is compared with the forwarder's environment
    forwarder_env = props(cfn, functions["forwarder"])["Environment"]["Variables"]
    # Then the forwarder knows the exact maxReceiveCount, from the same parameter
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": [queues["dlq"], "Arn"]}
    assert redrive["maxReceiveCount"] == forwarder_env["MAX_RECEIVE_COUNT"]
    assert redrive["maxReceiveCount"] == {"Ref": "MaxReceiveCount"}
    # And, as the poison-message backstop only, it never ends an outage budget early at the backoff cap
    receives, cap = resolve(redrive["maxReceiveCount"], cfn), resolve(forwarder_env["RETRY_MAX_DELAY"], cfn)
    budget = resolve(forwarder_env["OUTAGE_BUDGET_SECONDS"], cfn)
    assert (receives, cap, budget) == (200, 600, 86400)
    assert receives * cap >= budget
    # And the budget ends before the queue's retention, at every allowed value
    retention = resolve(props(cfn, queues["queue"])["MessageRetentionPeriod"], cfn)
    assert cfn["Parameters"]["OutageBudgetSeconds"]["MaxValue"] + 600 <= retention
    # And it sends DLQ_URL/QUEUE_URL to those very queues
    assert forwarder_env["DLQ_URL"] == {"Ref": queues["dlq"]}
    assert forwarder_env["QUEUE_URL"] == {"Ref": queues["queue"]}


@pytest.mark.parametrize("which", ["queue", "dlq"])
def test_both_queues_are_encrypted(cfn: dict[str, Any], queues: dict[str, str], which: str) -> None:
    # Given one of the two queues
    queue = props(cfn, queues[which])
    # Then it is encrypted at rest, SQS-managed or with a KMS key
    assert queue.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in queue


def test_dlq_retention_is_bounded_and_outlasts_the_queue(cfn: dict[str, Any], queues: dict[str, str]) -> None:
    # Given the DLQ's retention, driven by a parameter
    retention = props(cfn, queues["dlq"])["MessageRetentionPeriod"]
    parameter_name = next(a for a in retention["Fn::FindInMap"] if isinstance(a, dict))["Ref"]
    parameter = cfn["Parameters"][parameter_name]
    queue_retention = resolve(props(cfn, queues["queue"])["MessageRetentionPeriod"], cfn)
    # When it is evaluated for every value the parameter allows
    for days in parameter["AllowedValues"]:
        seconds = resolve(retention, cfn, {parameter_name: days})
        # Then it is the same number of days, never beyond SQS's 14 days, and longer than the
        # queue's retention (a dead-lettered message keeps its original enqueue time)
        assert seconds == int(days) * 86_400
        assert queue_retention < seconds <= SQS_MAX_RETENTION_SECONDS
    assert parameter["Default"] in parameter["AllowedValues"]


def test_only_the_webhook_queue_may_dead_letter_into_the_dlq(cfn: dict[str, Any], queues: dict[str, str]) -> None:
    # Given the DLQ's redrive-allow policy and the queue's name
    allow = props(cfn, queues["dlq"])["RedriveAllowPolicy"]
    queue_name = props(cfn, queues["queue"])["QueueName"]["Fn::Sub"]
    # Then exactly one source queue is allowed: the webhook queue
    assert allow["redrivePermission"] == "byQueue"
    (source_arn,) = allow["sourceQueueArns"]
    assert source_arn["Fn::Sub"] == f"arn:${{AWS::Partition}}:sqs:${{AWS::Region}}:${{AWS::AccountId}}:{queue_name}"


# ---------------------------------------------------------------------------------------------- alarms


def _alarm_on(cfn: dict[str, Any], metric: str, queue: str) -> dict[str, Any]:
    matches: list[dict[str, Any]] = [
        a["Properties"]
        for a in of_type(cfn, "AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == metric
        and {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}} in a["Properties"]["Dimensions"]
    ]
    assert len(matches) == 1, f"one alarm on {metric} of {queue}"
    return matches[0]


def test_alarm_fires_on_any_message_in_the_dlq(cfn: dict[str, Any], queues: dict[str, str]) -> None:
    # Given the alarms
    # When the one on the DLQ's depth is read
    alarm = _alarm_on(cfn, "ApproximateNumberOfMessagesVisible", queues["dlq"])
    # Then a single dead-lettered webhook trips it
    assert alarm["Namespace"] == "AWS/SQS"
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert resolve(alarm["Threshold"], cfn) == 0


def test_alarm_fires_when_webhooks_wait_too_long(cfn: dict[str, Any], queues: dict[str, str]) -> None:
    # Given the alarms
    # When the one on the queue's oldest message is read
    alarm = _alarm_on(cfn, "ApproximateAgeOfOldestMessage", queues["queue"])
    # Then its threshold is a parameter (900 s by default)
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["Threshold"] == {"Ref": "OldestMessageAlarmSeconds"}
    assert resolve(alarm["Threshold"], cfn) == 900


def test_every_alarm_notifies_the_topic_and_the_email_is_optional(cfn: dict[str, Any]) -> None:
    # Given the alarm topic
    (topic,) = of_type(cfn, "AWS::SNS::Topic")
    # Then every alarm notifies it
    for name, alarm in of_type(cfn, "AWS::CloudWatch::Alarm").items():
        assert {"Ref": topic} in alarm["Properties"]["AlarmActions"], name
    # And the e-mail subscription exists only when an address is given (none by default)
    (subscription,) = of_type(cfn, "AWS::SNS::Subscription").values()
    assert subscription["Properties"]["TopicArn"] == {"Ref": topic}
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}
    condition = cfn["Conditions"][subscription["Condition"]]
    assert condition == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}
    assert cfn["Parameters"]["AlarmEmail"]["Default"] == ""


# ---------------------------------------------------------------------------------------------- IAM


def test_no_iam_statement_grants_sqs_or_secrets_on_every_resource(cfn: dict[str, Any]) -> None:
    # Given every role the stack creates
    for role in of_type(cfn, "AWS::IAM::Role"):
        # When its statements are read
        for statement in statements(cfn, role):
            actions = [a.lower() for a in as_list(statement["Action"])]
            wildcard = any("*" in json.dumps(r) for r in as_list(statement["Resource"]))
            # Then no SQS or Secrets Manager action (nor "*") applies to a wildcard resource
            risky = [a for a in actions if a == "*" or a.startswith(("sqs:", "secretsmanager:"))]
            assert not (wildcard and risky), f"{role}: {risky} on {statement['Resource']}"
            assert not any(a in ("sqs:*", "secretsmanager:*", "*") for a in actions), role
        # And no managed policy brings them in by the back door (SAM adds
        # AWSLambdaSQSQueueExecutionRole, sqs:* actions on "*", to the roles it generates for SQS events)
        for arn in props(cfn, role).get("ManagedPolicyArns", []):
            text = json.dumps(arn)
            assert "SQSQueueExecutionRole" not in text, role
            assert "FullAccess" not in text, role
            assert "SecretsManagerReadWrite" not in text, role


def test_each_function_may_touch_only_its_own_queues_and_the_secret(
    cfn: dict[str, Any], functions: dict[str, str], queues: dict[str, str]
) -> None:
    def arn(queue: str) -> str:
        return json.dumps({"Fn::GetAtt": [queue, "Arn"]}, sort_keys=True)

    # Given each function's role
    receiver_role = role_of(cfn, functions["receiver"])
    forwarder_role = role_of(cfn, functions["forwarder"])
    # When its SQS grants are read
    # Then the receiver may only send to the webhook queue
    assert grants(cfn, receiver_role, "sqs") == {arn(queues["queue"]): {"sqs:SendMessage"}}
    # And the forwarder consumes and re-times the webhook queue, and sends only to the DLQ
    assert grants(cfn, forwarder_role, "sqs") == {
        arn(queues["queue"]): {
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:DeleteMessageBatch",
            "sqs:ChangeMessageVisibility",
            "sqs:ChangeMessageVisibilityBatch",
            "sqs:GetQueueAttributes",
        },
        arn(queues["dlq"]): {"sqs:SendMessage"},
    }
    # And both may read exactly the secret they are configured with, nothing more
    for function in functions.values():
        secret = props(cfn, function)["Environment"]["Variables"]["SECRET_ID"]
        assert grants(cfn, role_of(cfn, function), "secretsmanager") == {
            json.dumps(secret, sort_keys=True): {"secretsmanager:GetSecretValue"}
        }


# ---------------------------------------------------------------------------------------------- the secret


def test_secret_is_created_only_without_an_existing_one_and_holds_the_design_shape(
    cfn: dict[str, Any], functions: dict[str, str]
) -> None:
    # Given the secret resource
    ((name, secret),) = of_type(cfn, "AWS::SecretsManager::Secret").items()
    # Then it exists only when no ExistingSecretArn is passed
    assert cfn["Conditions"][secret["Condition"]] == {"Fn::Equals": [{"Ref": "ExistingSecretArn"}, ""]}
    assert cfn["Parameters"]["ExistingSecretArn"]["Default"] == ""
    # And it holds the placeholder document of DESIGN.md, not a generated string
    assert "GenerateSecretString" not in secret["Properties"]
    assert json.loads(secret["Properties"]["SecretString"]) == {"sources": {}}
    # And every function, and the output, use the secret in use
    in_use = {"Fn::If": [secret["Condition"], {"Ref": name}, {"Ref": "ExistingSecretArn"}]}
    for function in functions.values():
        assert props(cfn, function)["Environment"]["Variables"]["SECRET_ID"] == in_use
    assert cfn["Outputs"]["SecretArn"]["Value"] == in_use


# ---------------------------------------------------------------------------------------------- functions and layer


def test_both_functions_exist_with_thin_handlers_and_their_own_code(
    sam: dict[str, Any], functions: dict[str, str]
) -> None:
    # Given the SAM template's functions
    # Then the receiver and the forwarder are there, each with app.lambda_handler
    assert set(functions) == {"receiver", "forwarder"}
    for function in functions.values():
        handler = props(sam, function).get("Handler") or sam["Globals"]["Function"]["Handler"]
        assert handler == "app.lambda_handler"


@pytest.mark.parametrize(("which", "timeout"), [("receiver", 10), ("forwarder", 30)])
def test_function_sizes(cfn: dict[str, Any], functions: dict[str, str], which: str, timeout: int) -> None:
    # Given one function of the transformed template
    function = props(cfn, functions[which])
    # Then its timeout and memory are the designed ones
    assert resolve(function["Timeout"], cfn) == timeout
    assert function["MemorySize"] == 256


def test_python_311_and_one_architecture_everywhere(sam: dict[str, Any], cfn: dict[str, Any]) -> None:
    # Given every function and layer of the transformed template
    lambdas = of_type(cfn, "AWS::Lambda::Function").values()
    (layer,) = of_type(cfn, "AWS::Lambda::LayerVersion").values()
    (sam_layer,) = of_type(sam, "AWS::Serverless::LayerVersion").values()
    # Then they run on python3.11, on the architecture the layer is built for
    architecture = sam_layer["Metadata"].get("BuildArchitecture", "x86_64")
    for function in lambdas:
        assert function["Properties"]["Runtime"] == "python3.11"
        assert function["Properties"].get("Architectures", ["x86_64"]) == [architecture]
        assert function["Properties"]["Layers"] == [{"Ref": next(iter(of_type(cfn, "AWS::Lambda::LayerVersion")))}]
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.11"]
    assert layer["Properties"].get("CompatibleArchitectures", ["x86_64"]) == [architecture]
    assert architecture == "arm64"


def test_sam_build_builds_the_layer_with_its_makefile(sam: dict[str, Any]) -> None:
    # Given the SAM layer and the Makefile in its content directory
    ((name, layer),) = of_type(sam, "AWS::Serverless::LayerVersion").items()
    makefile = ROOT / layer["Properties"]["ContentUri"] / "Makefile"
    text = makefile.read_text(encoding="utf-8")
    # Then sam build runs that Makefile's build-<logical id> target, for arm64
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert layer["Metadata"]["BuildArchitecture"] == "arm64"
    assert re.search(rf"^build-{name}:", text, re.MULTILINE), f"no build-{name} target in {makefile}"
    # And the target installs wheels for Lambda's python3.11 (Amazon Linux 2: manylinux2014, not 2_28),
    # arm64 unless asked otherwise
    assert re.search(r"^LAYER_ARCH \?= arm64$", text, re.MULTILINE)
    assert "WHEEL_ARCH_arm64 := aarch64" in text
    for option in ("--only-binary=:all:", "--implementation cp", "--python-version 3.11", "manylinux2014_"):
        assert option in text, option
    glibc_minors = re.search(r"^GLIBC_MINORS := ([0-9 ]+)$", text, re.MULTILINE)
    assert glibc_minors
    assert max(int(m) for m in glibc_minors[1].split()) <= 26
    # And it compiles every module in the mode valid on a read-only /opt, then checks the result
    assert "-m compileall" in text
    assert "--invalidation-mode unchecked-hash" in text
    assert "check_layer.py" in text
    assert (makefile.parent / "check_layer.py").is_file()


def test_layer_requirements_are_pinned_and_leave_boto_to_the_runtime(sam: dict[str, Any]) -> None:
    # Given the layer's requirements.txt
    (layer,) = of_type(sam, "AWS::Serverless::LayerVersion").values()
    content = ROOT / layer["Properties"]["ContentUri"]
    assert (content / "webhook_translator" / "__init__.py").is_file()
    lines = (content / "requirements.txt").read_text(encoding="utf-8").splitlines()
    # When its requirement lines are read (comments and blanks aside)
    requirements = [line.split("#", 1)[0].strip() for line in lines]
    requirements = [r for r in requirements if r]
    # Then there are some, each pinned with ==, and none is boto3 or botocore
    assert requirements
    for requirement in requirements:
        assert re.fullmatch(r"[A-Za-z0-9._-]+(\[[A-Za-z0-9,._-]+\])?==[A-Za-z0-9.+!-]+", requirement), requirement
    assert not re.search(r"\bboto(3|core)\b", "\n".join(requirements), re.IGNORECASE)


def test_no_function_level_dead_letter_queue(sam: dict[str, Any], cfn: dict[str, Any]) -> None:
    # Given the functions (a function DLQ only catches async invocations, never an SQS trigger)
    # Then none declares one, before or after the transform
    assert "DeadLetterQueue" not in sam.get("Globals", {}).get("Function", {})
    for name, function in of_type(sam, "AWS::Serverless::Function").items():
        assert "DeadLetterQueue" not in function["Properties"], name
    for name, function in of_type(cfn, "AWS::Lambda::Function").items():
        assert "DeadLetterConfig" not in function["Properties"], name


@pytest.mark.parametrize("which", ["receiver", "forwarder"])
def test_environment_is_what_the_function_reads(cfn: dict[str, Any], functions: dict[str, str], which: str) -> None:
    # Given one function's environment after Globals are merged in
    env = props(cfn, functions[which])["Environment"]["Variables"]
    # Then it holds Powertools' variables and exactly the settings that function needs
    assert set(env) == POWERTOOLS_ENV | APP_ENV[which]
    # And each setting is one the configuration model knows
    aliases = {field.alias for field in Settings.model_fields.values()}
    assert APP_ENV[which] <= aliases
    assert env["POWERTOOLS_SERVICE_NAME"] == "webhook-translator"
    assert env["POWERTOOLS_LOG_LEVEL"] == {"Ref": "LogLevel"}


@pytest.mark.parametrize("which", ["receiver", "forwarder"])
def test_every_allowed_parameter_value_passes_the_config_model(
    cfn: dict[str, Any], functions: dict[str, str], which: str
) -> None:
    # Given one function's environment, whose settings come from parameters
    env = props(cfn, functions[which])["Environment"]["Variables"]
    parameters = cfn["Parameters"]

    def environ(overrides: dict[str, Any]) -> dict[str, str]:
        values: dict[str, str] = {}
        for key, value in env.items():
            try:
                values[key] = str(resolve(value, cfn, overrides))
            except (ValueError, KeyError):
                if isinstance(value, dict) and "Fn::If" in value:
                    continue  # a conditional variable: absent at the parameters' defaults
                values[key] = f"placeholder-{key.lower()}"  # a resource's URL or ARN
        return values

    # When each parameter is set to its default, its bounds and each allowed value
    for value in env.values():
        if not (isinstance(value, dict) and value.get("Ref") in parameters):
            continue
        name = value["Ref"]
        spec = parameters[name]
        candidates = [spec.get("Default"), spec.get("MinValue"), spec.get("MaxValue"), *spec.get("AllowedValues", [])]
        for candidate in (c for c in candidates if c is not None):
            # Then the function's configuration model accepts it (no cold-start failure)
            Settings.from_env(environ({name: candidate}))


def test_tracing_is_off_by_default_and_switches_everything_together(
    cfn: dict[str, Any], functions: dict[str, str]
) -> None:
    # Given the tracing parameter and its condition
    assert cfn["Parameters"]["EnableTracing"]["Default"] == "false"
    condition = next(
        name for name, c in cfn["Conditions"].items() if c == {"Fn::Equals": [{"Ref": "EnableTracing"}, "true"]}
    )
    for function in functions.values():
        properties = props(cfn, function)
        # Then the function traces actively only under it, and Powertools' tracer follows suit
        mode = properties["TracingConfig"]["Mode"]["Fn::If"]
        assert mode[0] == condition
        assert mode[1] == "Active"
        assert mode[2] != "Active"
        assert properties["Environment"]["Variables"]["POWERTOOLS_TRACE_DISABLED"] == {
            "Fn::If": [condition, "false", "true"]
        }
        # And X-Ray write permissions come only with it
        for arn in props(cfn, role_of(cfn, function)).get("ManagedPolicyArns", []):
            if "xray" in json.dumps(arn).lower():
                assert arn["Fn::If"][0] == condition
                assert arn["Fn::If"][2] == {"Ref": "AWS::NoValue"}


# ---------------------------------------------------------------------------------------------- HTTP API


def test_post_webhooks_source_reaches_the_receiver(cfn: dict[str, Any], functions: dict[str, str]) -> None:
    # Given the HTTP API's generated OpenAPI body
    (api,) = of_type(cfn, "AWS::ApiGatewayV2::Api").values()
    paths = api["Properties"]["Body"]["paths"]
    # When the webhook route is read
    route = paths["/webhooks/{source}"]["post"]
    integration = route["x-amazon-apigateway-integration"]
    # Then it proxies to the receiver with payload format 2.0, and API Gateway may invoke it
    assert f"${{{functions['receiver']}.Arn}}" in integration["uri"]["Fn::Sub"]
    assert integration["type"] == "aws_proxy"
    assert integration["payloadFormatVersion"] == "2.0"
    permissions = [p["Properties"] for p in of_type(cfn, "AWS::Lambda::Permission").values()]
    assert any(p["FunctionName"] == {"Ref": functions["receiver"]} for p in permissions)
    assert set(paths) == {"/webhooks/{source}"}


def test_get_webhooks_source_reaches_the_receiver_for_handshakes(
    cfn: dict[str, Any], functions: dict[str, str]
) -> None:
    # Given the HTTP API's generated OpenAPI body
    (api,) = of_type(cfn, "AWS::ApiGatewayV2::Api").values()
    methods = api["Properties"]["Body"]["paths"]["/webhooks/{source}"]
    # When the GET route is read (Meta's subscription handshake; every other source answers it 405)
    integration = methods["get"]["x-amazon-apigateway-integration"]
    # Then it proxies to the receiver too — the receiver answers it without the queue — and nothing else is routed
    assert f"${{{functions['receiver']}.Arn}}" in integration["uri"]["Fn::Sub"]
    assert integration["payloadFormatVersion"] == "2.0"
    assert set(methods) == {"get", "post"}


def test_api_stage_is_throttled_by_parameters(cfn: dict[str, Any]) -> None:
    # Given the HTTP API's stage
    (stage,) = of_type(cfn, "AWS::ApiGatewayV2::Stage").values()
    settings = stage["Properties"]["DefaultRouteSettings"]
    # Then burst and rate limits come from parameters
    assert settings["ThrottlingBurstLimit"] == {"Ref": "ThrottlingBurstLimit"}
    assert settings["ThrottlingRateLimit"] == {"Ref": "ThrottlingRateLimit"}


# ---------------------------------------------------------------------------------------------- outputs


def test_outputs_tell_the_user_where_everything_is(cfn: dict[str, Any], functions: dict[str, str]) -> None:
    # Given the stack outputs
    outputs = cfn["Outputs"]
    # Then the URL to give providers, the queues, the secret and the functions are there
    assert set(outputs) >= OUTPUTS
    assert outputs["WebhookBaseUrl"]["Value"] == {
        "Fn::Sub": "https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/webhooks/"
    }
    assert outputs["ReceiverFunctionName"]["Value"] == {"Ref": functions["receiver"]}
    assert outputs["ForwarderFunctionName"]["Value"] == {"Ref": functions["forwarder"]}


def test_function_logs_have_a_bounded_retention(cfn: dict[str, Any]) -> None:
    # Given the transformed template
    groups = list(of_type(cfn, "AWS::Logs::LogGroup").values())
    # Then each function's log group exists with a retention (logs are not kept forever)
    assert len(groups) == 2
    for group in groups:
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
        assert group["Properties"]["LogGroupName"]["Fn::Sub"].startswith("/aws/lambda/${")


def test_the_forwarder_knows_the_queue_retention(cfn: dict[str, Any], functions: dict[str, str]) -> None:
    # Given the queue's retention and the forwarder's environment
    (mapping,) = of_type(cfn, "AWS::Lambda::EventSourceMapping").values()
    queue = getatt_target(mapping["Properties"]["EventSourceArn"])
    env = props(cfn, functions["forwarder"])["Environment"]["Variables"]
    # Then they agree, so no retry is ever planned past the point where SQS would drop the message
    assert int(env["QUEUE_RETENTION_SECONDS"]) == int(props(cfn, queue)["MessageRetentionPeriod"])


def test_the_translator_config_parameter_is_readable_by_both_functions_and_nothing_more(cfn: dict[str, Any]) -> None:
    # Given the TranslatorConfigParameter stack parameter
    expected = {
        "Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${TranslatorConfigParameter}"
    }
    for role in ("ReceiverRole", "ForwarderRole"):
        [statement] = [s for s in statements(cfn, role) if s.get("Sid") == "ReadTranslatorConfig"]
        # Then each function may read that one parameter, only when it is set
        assert statement["Action"] == "ssm:GetParameter"
        assert statement["Resource"] == expected
    assert cfn["Conditions"]["HasConfigParameter"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "TranslatorConfigParameter"}, ""]}]
    }
    # And a configuration file is read from the layer's config folder
    for function in ("ReceiverFunction", "ForwarderFunction"):
        env = props(cfn, function)["Environment"]["Variables"]
        assert env["TRANSLATOR_CONFIG_FILE"] == {
            "Fn::If": ["HasConfigFile", {"Fn::Sub": "/opt/config/${TranslatorConfigFile}"}, {"Ref": "AWS::NoValue"}]
        }
