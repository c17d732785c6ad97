/* managed.c: AWS managed policies with documents close to AWS's own (trimmed of statements for
 * services Nimbus does not serve, keeping the same shape: actions, NotAction, conditions). */
#include "iam/managed.h"

#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define ALLOW(actions) "{\"Effect\":\"Allow\",\"Action\":" actions ",\"Resource\":\"*\"}"
#define DOC(stmts) "{\"Version\":\"2012-10-17\",\"Statement\":[" stmts "]}"

/* id and arn are filled in at first use (fill()), so the rows leave them out. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static nb_managed_policy table[] = {
    {"AdministratorAccess", "/", "Provides full access to AWS services and resources.", "v1",
     DOC(ALLOW("\"*\""))},
    {"PowerUserAccess", "/",
     "Provides full access to AWS services and resources, but does not allow management of Users "
     "and groups.",
     "v5",
     DOC("{\"Effect\":\"Allow\",\"NotAction\":[\"iam:*\",\"organizations:*\",\"account:*\"],"
         "\"Resource\":\"*\"}," 
         ALLOW("[\"iam:CreateServiceLinkedRole\",\"iam:DeleteServiceLinkedRole\",\"iam:ListRoles\","
               "\"organizations:DescribeOrganization\",\"account:ListRegions\","
               "\"account:GetAccountInformation\"]"))},
    {"ReadOnlyAccess", "/", "Provides read-only access to AWS services and resources.", "v100",
     DOC(ALLOW("[\"acm:Describe*\",\"acm:Get*\",\"acm:List*\",\"autoscaling:Describe*\","
               "\"cloudfront:DescribeFunction\",\"cloudfront:Get*\",\"cloudfront:List*\","
               "\"cloudwatch:Describe*\",\"cloudwatch:Get*\",\"cloudwatch:List*\","
               "\"ec2:Describe*\",\"ec2:Get*\",\"ec2:SearchTransitGatewayRoutes\","
               "\"elasticache:Describe*\",\"elasticache:List*\",\"elasticfilesystem:Describe*\","
               "\"elasticfilesystem:ListTagsForResource\",\"elasticloadbalancing:Describe*\","
               "\"events:Describe*\",\"events:List*\",\"events:TestEventPattern\","
               "\"iam:Generate*\",\"iam:Get*\",\"iam:List*\",\"iam:Simulate*\","
               "\"inspector:Describe*\",\"inspector:Get*\",\"inspector:List*\","
               "\"inspector:LocalizeText\",\"inspector:PreviewAgentsForResourceGroup\","
               "\"lambda:Get*\",\"lambda:List*\",\"logs:Describe*\",\"logs:FilterLogEvents\","
               "\"logs:Get*\",\"logs:ListTagsForResource\",\"logs:ListTagsLogGroup\","
               "\"logs:StartQuery\",\"logs:StopQuery\",\"logs:TestMetricFilter\","
               "\"rds:Describe*\",\"rds:List*\",\"rds:DownloadDBLogFilePortion\","
               "\"route53:Get*\",\"route53:List*\",\"route53:TestDNSAnswer\","
               "\"route53domains:Check*\",\"route53domains:Get*\",\"route53domains:List*\","
               "\"route53domains:View*\",\"s3:DescribeJob\",\"s3:Get*\",\"s3:List*\","
               "\"shield:Describe*\",\"shield:Get*\",\"shield:List*\",\"sns:Check*\","
               "\"sns:Get*\",\"sns:List*\",\"sts:GetAccessKeyInfo\",\"sts:GetCallerIdentity\","
               "\"sts:GetSessionToken\",\"waf:Get*\",\"waf:List*\",\"waf-regional:Get*\","
               "\"waf-regional:List*\",\"wafv2:Check*\",\"wafv2:Describe*\",\"wafv2:Get*\","
               "\"wafv2:List*\"]"))},
    {"IAMFullAccess", "/", "Provides full access to IAM via the AWS Management Console.", "v2",
     DOC(ALLOW("[\"iam:*\",\"organizations:DescribeAccount\",\"organizations:DescribeOrganization\","
               "\"organizations:DescribeOrganizationalUnit\",\"organizations:DescribePolicy\","
               "\"organizations:ListChildren\",\"organizations:ListParents\","
               "\"organizations:ListPoliciesForTarget\",\"organizations:ListRoots\","
               "\"organizations:ListPolicies\",\"organizations:ListTargetsForPolicy\"]"))},
    {"IAMReadOnlyAccess", "/", "Provides read only access to IAM via the AWS Management Console.",
     "v4",
     DOC(ALLOW("[\"iam:GenerateCredentialReport\",\"iam:GenerateServiceLastAccessedDetails\","
               "\"iam:Get*\",\"iam:List*\",\"iam:SimulateCustomPolicy\","
               "\"iam:SimulatePrincipalPolicy\"]"))},
    {"IAMUserChangePassword", "/", "Provides the ability for an IAM user to change their own password.",
     "v2",
     DOC("{\"Effect\":\"Allow\",\"Action\":[\"iam:ChangePassword\"],"
         "\"Resource\":[\"arn:aws:iam::*:user/${aws:username}\"]}," 
         ALLOW("[\"iam:GetAccountPasswordPolicy\"]"))},
    {"AmazonS3FullAccess", "/", "Provides full access to all buckets via the AWS Management Console.",
     "v2", DOC(ALLOW("[\"s3:*\",\"s3-object-lambda:*\"]"))},
    {"AmazonS3ReadOnlyAccess", "/",
     "Provides read only access to all buckets via the AWS Management Console.", "v3",
     DOC(ALLOW("[\"s3:Get*\",\"s3:List*\",\"s3:Describe*\",\"s3-object-lambda:Get*\","
               "\"s3-object-lambda:List*\"]"))},
    {"AmazonEC2FullAccess", "/", "Provides full access to Amazon EC2 via the AWS Management Console.",
     "v5",
     DOC(ALLOW("\"ec2:*\"")  ","  ALLOW("\"elasticloadbalancing:*\"")  ","  ALLOW("\"cloudwatch:*\"") 
         ","  ALLOW("\"autoscaling:*\"")  "," 
         "{\"Effect\":\"Allow\",\"Action\":\"iam:CreateServiceLinkedRole\",\"Resource\":\"*\","
         "\"Condition\":{\"StringEquals\":{\"iam:AWSServiceName\":[\"autoscaling.amazonaws.com\","
         "\"ec2scheduled.amazonaws.com\",\"elasticloadbalancing.amazonaws.com\","
         "\"spot.amazonaws.com\",\"spotfleet.amazonaws.com\","
         "\"transitgateway.amazonaws.com\"]}}}")},
    {"AmazonEC2ReadOnlyAccess", "/",
     "Provides read only access to Amazon EC2 via the AWS Management Console.", "v3",
     DOC(ALLOW("\"ec2:Describe*\"")  ","  ALLOW("\"elasticloadbalancing:Describe*\"")  "," 
         ALLOW("[\"cloudwatch:ListMetrics\",\"cloudwatch:GetMetricStatistics\","
               "\"cloudwatch:Describe*\"]") 
         ","  ALLOW("\"autoscaling:Describe*\""))},
    {"AmazonVPCFullAccess", "/", "Provides full access to Amazon VPC via the AWS Management Console.",
     "v10",
     DOC(ALLOW("[\"ec2:*Vpc*\",\"ec2:*Subnet*\",\"ec2:*Gateway*\",\"ec2:*Route*\",\"ec2:*Address*\","
               "\"ec2:*SecurityGroup*\",\"ec2:*NetworkAcl*\",\"ec2:*DhcpOptions*\","
               "\"ec2:*NetworkInterface*\",\"ec2:DescribeAvailabilityZones\","
               "\"ec2:DescribeInstances\",\"ec2:DescribeAccountAttributes\",\"ec2:CreateTags\","
               "\"ec2:DeleteTags\",\"ec2:DescribeTags\"]"))},
    {"AmazonVPCReadOnlyAccess", "/",
     "Provides read only access to Amazon VPC via the AWS Management Console.", "v8",
     DOC(ALLOW("[\"ec2:DescribeAccountAttributes\",\"ec2:DescribeAddresses\","
               "\"ec2:DescribeAvailabilityZones\",\"ec2:DescribeDhcpOptions\","
               "\"ec2:DescribeInternetGateways\",\"ec2:DescribeNatGateways\","
               "\"ec2:DescribeNetworkAcls\",\"ec2:DescribeNetworkInterfaces\","
               "\"ec2:DescribeRouteTables\",\"ec2:DescribeSecurityGroups\","
               "\"ec2:DescribeSecurityGroupRules\",\"ec2:DescribeSubnets\",\"ec2:DescribeTags\","
               "\"ec2:DescribeVpcAttribute\",\"ec2:DescribeVpcs\",\"ec2:DescribeVpnGateways\"]"))},
    {"AWSLambda_FullAccess", "/", "Grants full access to AWS Lambda service, AWS Lambda console "
                                  "features, and other related AWS services.",
     "v1",
     DOC(ALLOW("[\"cloudwatch:ListMetrics\",\"cloudwatch:GetMetricData\",\"ec2:DescribeSecurityGroups\","
               "\"ec2:DescribeSubnets\",\"ec2:DescribeVpcs\",\"events:*\",\"iam:GetPolicy\","
               "\"iam:GetPolicyVersion\",\"iam:GetRole\",\"iam:GetRolePolicy\",\"iam:ListAttachedRolePolicies\","
               "\"iam:ListRolePolicies\",\"iam:ListRoles\",\"lambda:*\",\"logs:DescribeLogGroups\","
               "\"s3:ListAllMyBuckets\",\"s3:ListBucket\",\"sns:ListTopics\",\"sns:Subscribe\","
               "\"sns:Unsubscribe\"]") 
         "," 
         "{\"Effect\":\"Allow\",\"Action\":\"iam:PassRole\",\"Resource\":\"*\",\"Condition\":"
         "{\"StringEquals\":{\"iam:PassedToService\":\"lambda.amazonaws.com\"}}}," 
         "{\"Effect\":\"Allow\",\"Action\":[\"logs:DescribeLogStreams\",\"logs:GetLogEvents\","
         "\"logs:FilterLogEvents\"],\"Resource\":\"arn:aws:logs:*:*:log-group:/aws/lambda/*\"}")},
    {"AWSLambda_ReadOnlyAccess", "/", "Grants read-only access to AWS Lambda service, AWS Lambda "
                                      "console features, and other related AWS services.",
     "v1",
     DOC(ALLOW("[\"cloudwatch:Describe*\",\"cloudwatch:Get*\",\"cloudwatch:List*\","
               "\"ec2:DescribeSecurityGroups\",\"ec2:DescribeSubnets\",\"ec2:DescribeVpcs\","
               "\"events:Describe*\",\"events:List*\",\"iam:GetPolicy\",\"iam:GetPolicyVersion\","
               "\"iam:GetRole\",\"iam:GetRolePolicy\",\"iam:ListAttachedRolePolicies\","
               "\"iam:ListRolePolicies\",\"iam:ListRoles\",\"lambda:Get*\",\"lambda:List*\","
               "\"logs:DescribeLogGroups\",\"s3:ListAllMyBuckets\",\"sns:ListTopics\"]") 
         "," 
         "{\"Effect\":\"Allow\",\"Action\":[\"logs:DescribeLogStreams\",\"logs:GetLogEvents\","
         "\"logs:FilterLogEvents\"],\"Resource\":\"arn:aws:logs:*:*:log-group:/aws/lambda/*\"}")},
    {"AWSLambdaBasicExecutionRole", "/service-role/",
     "Provides write permissions to CloudWatch Logs.", "v1",
     DOC(ALLOW("[\"logs:CreateLogGroup\",\"logs:CreateLogStream\",\"logs:PutLogEvents\"]"))},
    {"CloudWatchLogsFullAccess", "/", "Provides full access to CloudWatch Logs", "v2",
     DOC(ALLOW("[\"logs:*\",\"cloudwatch:GenerateQuery\"]"))},
    {"CloudWatchLogsReadOnlyAccess", "/", "Provides read only access to CloudWatch Logs", "v4",
     DOC(ALLOW("[\"logs:Describe*\",\"logs:Get*\",\"logs:List*\",\"logs:StartQuery\","
               "\"logs:StopQuery\",\"logs:TestMetricFilter\",\"logs:FilterLogEvents\","
               "\"logs:StartLiveTail\",\"logs:StopLiveTail\",\"cloudwatch:GenerateQuery\"]"))},
    {"CloudWatchFullAccess", "/", "Provides full access to CloudWatch.", "v4",
     DOC(ALLOW("[\"autoscaling:Describe*\",\"cloudwatch:*\",\"logs:*\",\"sns:*\","
               "\"iam:GetPolicy\",\"iam:GetPolicyVersion\",\"iam:GetRole\"]") 
         "," 
         "{\"Effect\":\"Allow\",\"Action\":\"iam:CreateServiceLinkedRole\","
         "\"Resource\":\"arn:aws:iam::*:role/aws-service-role/events.amazonaws.com/"
         "AWSServiceRoleForCloudWatchEvents*\",\"Condition\":{\"StringLike\":"
         "{\"iam:AWSServiceName\":\"events.amazonaws.com\"}}}")},
    {"CloudWatchReadOnlyAccess", "/", "Provides read only access to CloudWatch.", "v4",
     DOC(ALLOW("[\"autoscaling:Describe*\",\"cloudwatch:Describe*\",\"cloudwatch:Get*\","
               "\"cloudwatch:List*\",\"logs:Get*\",\"logs:List*\",\"logs:StartQuery\","
               "\"logs:StopQuery\",\"logs:Describe*\",\"logs:TestMetricFilter\","
               "\"logs:FilterLogEvents\",\"sns:Get*\",\"sns:List*\"]"))},
    {"AmazonEventBridgeFullAccess", "/", "Provides full access to Amazon EventBridge.", "v2",
     DOC(ALLOW("\"events:*\"")  "," 
         "{\"Effect\":\"Allow\",\"Action\":\"iam:PassRole\",\"Resource\":\"arn:aws:iam::*:role/*\","
         "\"Condition\":{\"StringLike\":{\"iam:PassedToService\":\"events.amazonaws.com\"}}}")},
    {"AmazonEventBridgeReadOnlyAccess", "/", "Provides read only access to Amazon EventBridge.",
     "v2", DOC(ALLOW("[\"events:DescribeRule\",\"events:DescribeEventBus\","
                     "\"events:DescribeEventSource\",\"events:ListEventBuses\","
                     "\"events:ListEventSources\",\"events:ListRuleNamesByTarget\","
                     "\"events:ListRules\",\"events:ListTargetsByRule\",\"events:TestEventPattern\","
                     "\"events:DescribeArchive\",\"events:ListArchives\",\"events:DescribeReplay\","
                     "\"events:ListReplays\",\"events:ListTagsForResource\"]"))},
    {"AmazonSNSFullAccess", "/", "Provides full access to Amazon SNS via the AWS Management Console.",
     "v1", DOC(ALLOW("[\"sns:*\"]"))},
    {"AmazonSNSReadOnlyAccess", "/",
     "Provides read only access to Amazon SNS via the AWS Management Console.", "v1",
     DOC(ALLOW("[\"sns:GetTopicAttributes\",\"sns:List*\",\"sns:CheckIfPhoneNumberIsOptedOut\","
               "\"sns:GetEndpointAttributes\",\"sns:GetDataProtectionPolicy\","
               "\"sns:GetPlatformApplicationAttributes\",\"sns:GetSMSAttributes\","
               "\"sns:GetSMSSandboxAccountStatus\",\"sns:GetSubscriptionAttributes\"]"))},
    {"AmazonSQSFullAccess", "/", "Provides full access to Amazon SQS via the AWS Management Console.", "v1",
     DOC(ALLOW("[\"sqs:*\"]"))},
    {"AmazonSQSReadOnlyAccess", "/", "Provides read only access to Amazon SQS via the AWS Management Console.",
     "v3",
     DOC(ALLOW("[\"sqs:GetQueueAttributes\",\"sqs:GetQueueUrl\",\"sqs:ListDeadLetterSourceQueues\","
               "\"sqs:ListQueues\",\"sqs:ListMessageMoveTasks\",\"sqs:ListQueueTags\"]"))},
    {"AWSLambdaExecute", "/", "Provides Put, Get access to S3 and full access to CloudWatch Logs.", "v1",
     DOC(ALLOW("[\"logs:*\"]") ",{\"Effect\":\"Allow\",\"Action\":[\"s3:GetObject\",\"s3:PutObject\"],"
         "\"Resource\":\"arn:aws:s3:::*\"}")},
    {"AWSLambdaRole", "/service-role/", "Default policy for AWS Lambda service role.", "v2",
     DOC(ALLOW("[\"lambda:InvokeFunction\"]"))},
    {"AWSLambdaSQSQueueExecutionRole", "/service-role/",
     "Provides receive message, delete message, and read attribute access to SQS queues, and write "
     "permissions to CloudWatch logs.",
     "v2",
     DOC(ALLOW("[\"sqs:ReceiveMessage\",\"sqs:DeleteMessage\",\"sqs:GetQueueAttributes\","
               "\"logs:CreateLogGroup\",\"logs:CreateLogStream\",\"logs:PutLogEvents\"]"))},
    {"AWSLambdaVPCAccessExecutionRole", "/service-role/",
     "Provides minimum permissions for a Lambda function to execute while accessing a resource "
     "within a VPC - create, describe, delete network interfaces and write permissions to "
     "CloudWatch Logs.",
     "v3",
     DOC(ALLOW("[\"logs:CreateLogGroup\",\"logs:CreateLogStream\",\"logs:PutLogEvents\","
               "\"ec2:CreateNetworkInterface\",\"ec2:DescribeNetworkInterfaces\","
               "\"ec2:DescribeSubnets\",\"ec2:DeleteNetworkInterface\","
               "\"ec2:AssignPrivateIpAddresses\",\"ec2:UnassignPrivateIpAddresses\"]"))},
    {"CloudWatchAgentServerPolicy", "/",
     "Permissions required to use AmazonCloudWatchAgent on servers", "v6",
     DOC(ALLOW("[\"cloudwatch:PutMetricData\",\"ec2:DescribeVolumes\",\"ec2:DescribeTags\","
               "\"logs:PutLogEvents\",\"logs:PutRetentionPolicy\",\"logs:DescribeLogStreams\","
               "\"logs:DescribeLogGroups\",\"logs:CreateLogStream\",\"logs:CreateLogGroup\"]"))},
    {"ElasticLoadBalancingFullAccess", "/",
     "Provides full access to Amazon ElasticLoadBalancing, and limited access to other services "
     "necessary to provide ElasticLoadBalancing features.",
     "v9",
     DOC(ALLOW("\"elasticloadbalancing:*\"")  "," 
         ALLOW("[\"ec2:DescribeAccountAttributes\",\"ec2:DescribeAddresses\","
               "\"ec2:DescribeInternetGateways\",\"ec2:DescribeSecurityGroups\","
               "\"ec2:DescribeSubnets\",\"ec2:DescribeVpcs\",\"ec2:DescribeVpcClassicLink\","
               "\"ec2:DescribeInstances\",\"ec2:DescribeNetworkInterfaces\","
               "\"ec2:DescribeClassicLinkInstances\",\"ec2:DescribeRouteTables\","
               "\"ec2:DescribeCoipPools\",\"ec2:GetCoipPoolUsage\","
               "\"ec2:DescribeVpcPeeringConnections\",\"cognito-idp:DescribeUserPoolClient\"]") 
         ","  ALLOW("\"iam:CreateServiceLinkedRole\""))},
    {"ElasticLoadBalancingReadOnly", "/",
     "Provides read only access to Amazon ElasticLoadBalancing and dependent services", "v1",
     DOC(ALLOW("\"elasticloadbalancing:Describe*\"")  "," 
         ALLOW("[\"ec2:DescribeInstances\",\"ec2:DescribeClassicLinkInstances\","
               "\"ec2:DescribeSecurityGroups\"]") 
         ","  ALLOW("\"arc-zonal-shift:GetManagedResource\""))},
    {"AutoScalingFullAccess", "/", "Provides full access to Auto Scaling.", "v3",
     DOC(ALLOW("\"autoscaling:*\"")  "," 
         ALLOW("[\"cloudwatch:PutMetricAlarm\",\"cloudwatch:DeleteAlarms\","
               "\"cloudwatch:DescribeAlarms\",\"cloudwatch:GetMetricData\","
               "\"ec2:DescribeAccountAttributes\",\"ec2:DescribeAvailabilityZones\","
               "\"ec2:DescribeImages\",\"ec2:DescribeInstanceAttribute\","
               "\"ec2:DescribeInstances\",\"ec2:DescribeKeyPairs\","
               "\"ec2:DescribeLaunchTemplateVersions\",\"ec2:DescribePlacementGroups\","
               "\"ec2:DescribeSecurityGroups\",\"ec2:DescribeSpotInstanceRequests\","
               "\"ec2:DescribeSubnets\",\"ec2:DescribeVpcClassicLink\"]") 
         "," 
         ALLOW("[\"elasticloadbalancing:DescribeLoadBalancers\","
               "\"elasticloadbalancing:DescribeTargetGroups\"]") 
         ","  ALLOW("\"iam:CreateServiceLinkedRole\""))},
    {"AutoScalingReadOnlyAccess", "/", "Provides read-only access to Auto Scaling.", "v1",
     DOC(ALLOW("\"autoscaling:Describe*\""))},
    {"AmazonRDSFullAccess", "/", "Provides full access to Amazon RDS via the AWS Management Console.",
     "v14",
     DOC(ALLOW("[\"rds:*\",\"application-autoscaling:DeleteScalingPolicy\","
               "\"application-autoscaling:DeregisterScalableTarget\","
               "\"application-autoscaling:DescribeScalableTargets\","
               "\"application-autoscaling:DescribeScalingActivities\","
               "\"application-autoscaling:DescribeScalingPolicies\","
               "\"application-autoscaling:PutScalingPolicy\","
               "\"application-autoscaling:RegisterScalableTarget\","
               "\"cloudwatch:DescribeAlarms\",\"cloudwatch:GetMetricStatistics\","
               "\"cloudwatch:PutMetricAlarm\",\"cloudwatch:DeleteAlarms\","
               "\"cloudwatch:ListMetrics\",\"cloudwatch:GetMetricData\","
               "\"ec2:DescribeAccountAttributes\",\"ec2:DescribeAvailabilityZones\","
               "\"ec2:DescribeInternetGateways\",\"ec2:DescribeSecurityGroups\","
               "\"ec2:DescribeSubnets\",\"ec2:DescribeVpcAttribute\",\"ec2:DescribeVpcs\","
               "\"logs:DescribeLogStreams\",\"logs:GetLogEvents\",\"sns:ListSubscriptions\","
               "\"sns:ListTopics\",\"sns:Publish\"]") 
         ","  ALLOW("\"pi:*\"")  "," 
         "{\"Effect\":\"Allow\",\"Action\":\"iam:CreateServiceLinkedRole\",\"Resource\":\"*\","
         "\"Condition\":{\"StringLike\":{\"iam:AWSServiceName\":[\"rds.amazonaws.com\","
         "\"rds.application-autoscaling.amazonaws.com\"]}}}")},
    {"AmazonRDSReadOnlyAccess", "/",
     "Provides read only access to Amazon RDS via the AWS Management Console.", "v8",
     DOC(ALLOW("[\"rds:Describe*\",\"rds:ListTagsForResource\",\"ec2:DescribeAccountAttributes\","
               "\"ec2:DescribeAvailabilityZones\",\"ec2:DescribeInternetGateways\","
               "\"ec2:DescribeSecurityGroups\",\"ec2:DescribeSubnets\","
               "\"ec2:DescribeVpcAttribute\",\"ec2:DescribeVpcs\"]") 
         "," 
         ALLOW("[\"cloudwatch:GetMetricStatistics\",\"cloudwatch:ListMetrics\","
               "\"cloudwatch:GetMetricData\",\"logs:DescribeLogStreams\",\"logs:GetLogEvents\","
               "\"devops-guru:GetResourceCollection\"]"))},
    {"AmazonElastiCacheFullAccess", "/",
     "Provides full access to Amazon ElastiCache via the AWS Management Console.", "v6",
     DOC(ALLOW("[\"elasticache:*\"]")  "," 
         "{\"Effect\":\"Allow\",\"Action\":\"iam:CreateServiceLinkedRole\",\"Resource\":"
         "\"arn:aws:iam::*:role/aws-service-role/elasticache.amazonaws.com/"
         "AWSServiceRoleForElastiCache\",\"Condition\":{\"StringLike\":"
         "{\"iam:AWSServiceName\":\"elasticache.amazonaws.com\"}}}," 
         ALLOW("[\"ec2:DescribeAvailabilityZones\",\"ec2:DescribeVpcs\",\"ec2:DescribeSubnets\","
               "\"ec2:DescribeSecurityGroups\",\"cloudwatch:GetMetricStatistics\","
               "\"cloudwatch:GetMetricData\",\"sns:ListTopics\",\"logs:DescribeLogGroups\"]"))},
    {"AmazonElastiCacheReadOnlyAccess", "/",
     "Provides read only access to Amazon ElastiCache via the AWS Management Console.", "v1",
     DOC(ALLOW("[\"elasticache:Describe*\",\"elasticache:List*\"]"))},
    {"AmazonRoute53FullAccess", "/", "Provides full access to all Amazon Route 53 via the AWS "
                                     "Management Console.",
     "v7",
     DOC(ALLOW("[\"route53:*\",\"route53domains:*\",\"cloudfront:ListDistributions\","
               "\"elasticloadbalancing:DescribeLoadBalancers\",\"s3:ListBucket\","
               "\"s3:GetBucketLocation\",\"s3:GetBucketWebsite\",\"ec2:DescribeVpcs\","
               "\"ec2:DescribeVpcEndpoints\",\"ec2:DescribeRegions\",\"sns:ListTopics\","
               "\"sns:ListSubscriptionsByTopic\",\"cloudwatch:DescribeAlarms\","
               "\"cloudwatch:GetMetricStatistics\"]") 
         ","  ALLOW("\"apigateway:GET\""))},
    {"AmazonRoute53ReadOnlyAccess", "/",
     "Provides read only access to all Amazon Route 53 via the AWS Management Console.", "v2",
     DOC(ALLOW("[\"route53:Get*\",\"route53:List*\",\"route53:TestDNSAnswer\"]"))},
    {"CloudFrontFullAccess", "/",
     "Provides full access to the CloudFront console plus the ability to list Amazon S3 buckets "
     "via the AWS Management Console.",
     "v5",
     DOC(ALLOW("[\"s3:ListAllMyBuckets\"]")  "," 
         ALLOW("[\"acm:ListCertificates\",\"cloudfront:*\",\"iam:ListServerCertificates\","
               "\"waf:ListWebACLs\",\"waf:GetWebACL\",\"wafv2:ListWebACLs\",\"wafv2:GetWebACL\"]"))},
    {"CloudFrontReadOnlyAccess", "/",
     "Provides access to CloudFront distribution configuration information and list "
     "distributions via the AWS Management Console.",
     "v5",
     DOC(ALLOW("[\"acm:ListCertificates\",\"cloudfront:Describe*\",\"cloudfront:Get*\","
               "\"cloudfront:List*\",\"iam:ListServerCertificates\",\"route53:List*\","
               "\"waf:ListWebACLs\",\"waf:GetWebACL\",\"wafv2:ListWebACLs\",\"wafv2:GetWebACL\"]"))},
    {"AWSCertificateManagerFullAccess", "/", "Provides full access to AWS Certificate Manager (ACM)",
     "v5",
     DOC(ALLOW("[\"acm:*\"]")  "," 
         "{\"Effect\":\"Allow\",\"Action\":\"iam:CreateServiceLinkedRole\",\"Resource\":"
         "\"arn:aws:iam::*:role/aws-service-role/acm.amazonaws.com/AWSServiceRoleForCertificateManager*\","
         "\"Condition\":{\"StringEquals\":{\"iam:AWSServiceName\":\"acm.amazonaws.com\"}}}")},
    {"AWSCertificateManagerReadOnly", "/", "Provides read only access to AWS Certificate Manager (ACM).",
     "v4",
     DOC(ALLOW("[\"acm:DescribeCertificate\",\"acm:ListCertificates\",\"acm:GetCertificate\","
               "\"acm:ListTagsForCertificate\",\"acm:GetAccountConfiguration\"]"))},
    {"AWSWAFFullAccess", "/", "Provides full access to AWS WAF actions.", "v3",
     DOC(ALLOW("[\"waf:*\",\"waf-regional:*\",\"wafv2:*\",\"elasticloadbalancing:SetWebACL\","
               "\"cloudfront:ListDistributions\",\"cloudfront:ListDistributionsByWebACLId\","
               "\"cloudfront:UpdateDistribution\",\"cloudfront:GetDistributionConfig\"]"))},
    {"AWSWAFReadOnlyAccess", "/", "Provides read-only access to AWS WAF actions.", "v4",
     DOC(ALLOW("[\"waf:Get*\",\"waf:List*\",\"waf-regional:Get*\",\"waf-regional:List*\","
               "\"wafv2:Get*\",\"wafv2:List*\",\"wafv2:Describe*\",\"wafv2:CheckCapacity\"]"))},
    {"AmazonInspectorFullAccess", "/", "Provides full access to Amazon Inspector.", "v5",
     DOC(ALLOW("[\"inspector:*\",\"ec2:DescribeInstances\",\"ec2:DescribeTags\","
               "\"sns:ListTopics\",\"events:DescribeRule\",\"events:ListRuleNamesByTarget\"]") 
         "," 
         "{\"Effect\":\"Allow\",\"Action\":\"iam:PassRole\",\"Resource\":\"*\",\"Condition\":"
         "{\"StringEquals\":{\"iam:PassedToService\":[\"inspector.amazonaws.com\"]}}}")},
    {"AmazonInspectorReadOnlyAccess", "/", "Provides read only access to Amazon Inspector.", "v3",
     DOC(ALLOW("[\"inspector:Describe*\",\"inspector:Get*\",\"inspector:List*\","
               "\"inspector:LocalizeText\",\"inspector:Preview*\",\"ec2:DescribeInstances\","
               "\"ec2:DescribeTags\",\"sns:ListTopics\",\"events:DescribeRule\","
               "\"events:ListRuleNamesByTarget\"]"))},
    {"AmazonElasticFileSystemFullAccess", "/",
     "Provides full access to Amazon EFS via the AWS Management Console.", "v8",
     DOC(ALLOW("[\"ec2:CreateNetworkInterface\",\"ec2:DeleteNetworkInterface\","
               "\"ec2:DescribeAvailabilityZones\",\"ec2:DescribeNetworkInterfaceAttribute\","
               "\"ec2:DescribeNetworkInterfaces\",\"ec2:DescribeSecurityGroups\","
               "\"ec2:DescribeSubnets\",\"ec2:DescribeVpcAttribute\",\"ec2:DescribeVpcs\","
               "\"ec2:ModifyNetworkInterfaceAttribute\",\"elasticfilesystem:*\","
               "\"kms:DescribeKey\",\"kms:ListAliases\"]"))},
    {"AmazonElasticFileSystemReadOnlyAccess", "/",
     "Provides read only access to Amazon EFS via the AWS Management Console.", "v5",
     DOC(ALLOW("[\"ec2:DescribeAvailabilityZones\",\"ec2:DescribeNetworkInterfaceAttribute\","
               "\"ec2:DescribeNetworkInterfaces\",\"ec2:DescribeSecurityGroups\","
               "\"ec2:DescribeSubnets\",\"ec2:DescribeVpcAttribute\",\"ec2:DescribeVpcs\","
               "\"elasticfilesystem:Describe*\",\"elasticfilesystem:ListTagsForResource\","
               "\"kms:ListAliases\"]"))},
    {"AWSShieldDRTAccessPolicy", "/service-role/",
     "Provides AWS Shield Response Team access to AWS resources protected by Shield Advanced.",
     "v3",
     DOC(ALLOW("[\"cloudfront:List*\",\"route53:List*\",\"elasticloadbalancing:Describe*\","
               "\"cloudwatch:Describe*\",\"cloudwatch:Get*\",\"cloudwatch:List*\","
               "\"ec2:Describe*\",\"shield:*\",\"waf:*\",\"wafv2:*\",\"waf-regional:*\"]"))},
};

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void fill(void)
{
    static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        nb_managed_policy *p = &table[i];
        unsigned char md[32];
        SHA256((const unsigned char *)p->name, strlen(p->name), md);
        memcpy(p->id, "ANPA", 4);
        for (int k = 0; k < 17; k++) p->id[4 + k] = b32[md[k] & 31];
        p->id[21] = 0;
        snprintf(p->arn, sizeof(p->arn), "arn:aws:iam::aws:policy%s%s", p->path, p->name);
    }
}

size_t nb_managed_count(void) { return sizeof(table) / sizeof(table[0]); }

const nb_managed_policy *nb_managed_at(size_t i)
{
    pthread_once(&once, fill);
    return i < nb_managed_count() ? &table[i] : NULL;
}

const nb_managed_policy *nb_managed_by_arn(const char *arn)
{
    pthread_once(&once, fill);
    if (strncmp(arn, "arn:aws:iam::aws:policy/", 24) != 0) return NULL;
    for (size_t i = 0; i < nb_managed_count(); i++)
        if (strcmp(table[i].arn, arn) == 0) return &table[i];
    return NULL;
}
