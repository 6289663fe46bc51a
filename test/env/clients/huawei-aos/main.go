// aos-call: one Huawei Cloud RFS (AOS) API call made by Huawei's official Go SDK, unchanged, for the
// emulator conformance suite (test/e2e/official-clients/rfs-go-sdk.test.ts). Reads one JSON request on
// stdin: {"op": "...", "stack_name": "...", "stack_id": "...", "deployment_id": "...",
// "execution_plan_name": "...", "execution_plan_id": "...", "body": {...}};
// the body is decoded into the SDK's own request model. Prints {"ok": true, "response": ...} or
// {"ok": false, "status": N, "code": "...", "message": "..."}. Endpoint and credentials come from the
// environment (AOS_ENDPOINT, AOS_AK, AOS_SK, AOS_PROJECT_ID).
package main

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	aos "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/aos/v1"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/aos/v1/model"
)

type request struct {
	Op           string          `json:"op"`
	StackName    string          `json:"stack_name"`
	StackID      *string         `json:"stack_id"`
	DeploymentID *string         `json:"deployment_id"`
	PlanName     string          `json:"execution_plan_name"`
	PlanID       *string         `json:"execution_plan_id"`
	Body         json.RawMessage `json:"body"`
}

// requestID: RFS requires a Client-Request-Id of 36 to 128 characters (a UUID).
func requestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func body[T any](raw json.RawMessage) (*T, error) {
	v := new(T)
	if len(raw) == 0 {
		return v, nil
	}
	return v, json.Unmarshal(raw, v)
}

func call(c *aos.AosClient, r request) (any, error) {
	id := requestID()
	switch r.Op {
	case "create":
		b, err := body[model.CreateStackRequestBody](r.Body)
		if err != nil {
			return nil, err
		}
		return c.CreateStack(&model.CreateStackRequest{ClientRequestId: id, Body: b})
	case "deploy":
		b, err := body[model.DeployStackRequestBody](r.Body)
		if err != nil {
			return nil, err
		}
		return c.DeployStack(&model.DeployStackRequest{ClientRequestId: id, StackName: r.StackName, Body: b})
	case "update":
		b, err := body[model.UpdateStackRequestBody](r.Body)
		if err != nil {
			return nil, err
		}
		return c.UpdateStack(&model.UpdateStackRequest{ClientRequestId: id, StackName: r.StackName, Body: b})
	case "metadata":
		return c.GetStackMetadata(&model.GetStackMetadataRequest{ClientRequestId: id, StackName: r.StackName, StackId: r.StackID})
	case "events":
		return c.ListStackEvents(&model.ListStackEventsRequest{ClientRequestId: id, StackName: r.StackName, StackId: r.StackID, DeploymentId: r.DeploymentID})
	case "outputs":
		return c.ListStackOutputs(&model.ListStackOutputsRequest{ClientRequestId: id, StackName: r.StackName, StackId: r.StackID})
	case "delete":
		return c.DeleteStack(&model.DeleteStackRequest{ClientRequestId: id, StackName: r.StackName, StackId: r.StackID})
	}
	return planCall(c, r, id)
}

// planCall: the execution-plan APIs (plan / approve, docs/plan-approve.md).
func planCall(c *aos.AosClient, r request, id string) (any, error) {
	switch r.Op {
	case "create-plan":
		b, err := body[model.CreateExecutionPlanRequestBody](r.Body)
		if err != nil {
			return nil, err
		}
		return c.CreateExecutionPlan(&model.CreateExecutionPlanRequest{ClientRequestId: id, StackName: r.StackName, Body: b})
	case "list-plans":
		return c.ListExecutionPlans(&model.ListExecutionPlansRequest{ClientRequestId: id, StackName: r.StackName, StackId: r.StackID})
	case "get-plan":
		return c.GetExecutionPlan(&model.GetExecutionPlanRequest{ClientRequestId: id, StackName: r.StackName, ExecutionPlanName: r.PlanName, StackId: r.StackID, ExecutionPlanId: r.PlanID})
	case "plan-metadata":
		return c.GetExecutionPlanMetadata(&model.GetExecutionPlanMetadataRequest{ClientRequestId: id, StackName: r.StackName, ExecutionPlanName: r.PlanName, StackId: r.StackID, ExecutionPlanId: r.PlanID})
	case "apply-plan":
		b, err := body[model.ApplyExecutionPlanRequestBody](r.Body)
		if err != nil {
			return nil, err
		}
		return c.ApplyExecutionPlan(&model.ApplyExecutionPlanRequest{ClientRequestId: id, StackName: r.StackName, ExecutionPlanName: r.PlanName, Body: b})
	case "delete-plan":
		return c.DeleteExecutionPlan(&model.DeleteExecutionPlanRequest{ClientRequestId: id, StackName: r.StackName, ExecutionPlanName: r.PlanName, StackId: r.StackID, ExecutionPlanId: r.PlanID})
	}
	return nil, fmt.Errorf("unknown op %q", r.Op)
}

func emit(v any) {
	out, _ := json.Marshal(v)
	fmt.Println(string(out))
}

func main() {
	var r request
	if err := json.NewDecoder(os.Stdin).Decode(&r); err != nil {
		emit(map[string]any{"ok": false, "status": 0, "code": "BadInput", "message": err.Error()})
		os.Exit(2)
	}
	cred, err := basic.NewCredentialsBuilder().WithAk(os.Getenv("AOS_AK")).WithSk(os.Getenv("AOS_SK")).WithProjectId(os.Getenv("AOS_PROJECT_ID")).SafeBuild()
	if err != nil {
		emit(map[string]any{"ok": false, "status": 0, "code": "Credentials", "message": err.Error()})
		os.Exit(2)
	}
	hc, err := aos.AosClientBuilder().WithEndpoints([]string{os.Getenv("AOS_ENDPOINT")}).WithCredential(cred).WithHttpConfig(config.DefaultHttpConfig()).SafeBuild()
	if err != nil {
		emit(map[string]any{"ok": false, "status": 0, "code": "Client", "message": err.Error()})
		os.Exit(2)
	}
	resp, err := call(aos.NewAosClient(hc), r)
	var se *sdkerr.ServiceResponseError
	switch {
	case errors.As(err, &se):
		emit(map[string]any{"ok": false, "status": se.StatusCode, "code": se.ErrorCode, "message": se.ErrorMessage})
	case err != nil:
		emit(map[string]any{"ok": false, "status": 0, "code": "ClientError", "message": err.Error()})
	default:
		emit(map[string]any{"ok": true, "response": resp})
	}
}
